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
  /** Multipart uploads: how blobs larger than one request are written (upload sessions, docs/PROTOCOL.md). */
  readonly multipart: MultipartStorage;
}

/**
 * The store's multipart API (R2 binding, S3). Parts are numbered from 1; every part but the last must be at least
 * 5 MiB and all but the last of equal size (R2's rule, the stricter one); at most 10,000 parts. Nothing is visible
 * under `blobKey` until `complete`, and the stored parts are not readable before it.
 */
export interface MultipartStorage {
  /**
   * Starts a multipart upload of `blobKey` and returns the store's upload id. `checksums: false` starts it without
   * S3's SHA-256 part checksums, for parts whose digest is unknown before they are sent (encrypted sessions).
   */
  create(blobKey: string, options: { contentType?: string; checksums?: boolean }): Promise<string>;
  /**
   * Stores exactly `length` bytes of `body` as part `partNumber` (sending a part number again replaces it) and
   * returns what `complete` needs. The store checks the part against `sha256` itself where it can (S3, rejecting
   * with `VerigateError("digest_mismatch")`), as `put` does; R2's binding takes no part checksum.
   */
  uploadPart(blobKey: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, options: PartOptions): Promise<StoredPart>;
  /** Assembles the listed parts, in `partNumber` order, into the blob at `blobKey`. */
  complete(blobKey: string, uploadId: string, parts: StoredPart[]): Promise<void>;
  /** Drops the upload and its parts; aborting an unknown or finished upload succeeds. */
  abort(blobKey: string, uploadId: string): Promise<void>;
}

export interface PartOptions {
  length: number;
  /**
   * Required, unlike `put`'s: S3 refuses a part of a SHA-256 upload without its checksum header, which must
   * come before the body, and `complete` hands each part's SHA-256 back to S3. Absent only in an upload created
   * with `checksums: false`, whose parts are then stored with an empty `sha256`.
   */
  sha256?: Uint8Array | undefined;
}

/** One stored part as `complete` needs it: its number, the store's ETag for it, and its SHA-256 (lowercase hex; empty without checksums). */
export interface StoredPart {
  partNumber: number;
  etag: string;
  sha256: string;
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
