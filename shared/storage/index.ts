/**
 * Object storage: where blob bytes live. It is untrusted (PROTOCOL "Trust model"): nothing read back from it
 * reaches a client before `shared/objects/chunk-verifier.ts` checked it against the manifest, so a backend only
 * moves bytes and reports what it holds. Blob keys are listed in docs/STORAGE.md.
 */
export interface ObjectStorage {
  readonly backend: StorageBackendName;
  /**
   * Stores exactly `length` bytes of `body` under `blobKey`. With `sha256`, the backend checks the bytes it
   * received itself and rejects with `VerigateError("digest_mismatch")` when they differ: a second check,
   * independent of the gateway's own hashing. A rejected put may still leave a partial blob; callers delete it.
   */
  put(blobKey: string, body: ReadableStream<Uint8Array>, options: PutOptions): Promise<void>;
  /**
   * The stored bytes, or the bytes of `range` within them; null when no blob has that key. `size` is the
   * whole stored blob's size as the backend reports it, whatever the range. A range past the end yields
   * what the blob holds there (possibly nothing) rather than an error, so callers can compare sizes.
   */
  get(blobKey: string, range?: ByteRange): Promise<StoredBlob | null>;
  /** Removes the blob; removing a missing blob succeeds. */
  delete(blobKey: string): Promise<void>;
}

export interface PutOptions {
  length: number;
  sha256?: Uint8Array;
  contentType?: string;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface StoredBlob {
  body: ReadableStream<Uint8Array>;
  size: number;
}

export type StorageBackendName = "r2" | "s3" | "memory";
