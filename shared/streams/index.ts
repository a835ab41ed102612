/**
 * The stream port: the few stream primitives the data path needs that differ per runtime. `workerd.ts` is the
 * Workers one (native `DigestStream` and `FixedLengthStream`); `node.ts` serves Lambda and the Node server
 * (`crypto.createHash`, an exact-length TransformStream). test/contracts/streams.ts is what each must do.
 */
export interface StreamRuntime {
  /** A fresh incremental SHA-256 for an upload's whole body. */
  wholeHasher(): WholeHasher;
  /**
   * SHA-256 of one chunk held in memory, as a download verifies it. It must not keep or alter the bytes, and must be
   * done with them once it resolved: the caller may refill the buffer then.
   */
  chunkSha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
  /**
   * Where present, a download reads a chunk as the storage body's own pieces, hashes them with this one by one and
   * keeps them uncopied (writing them out once the chunk matched), instead of copying them into one chunk buffer for
   * `chunkSha256`. For a runtime whose storage body has no BYOB `readAtLeast` and whose hash is synchronous.
   */
  chunkHasher?(): ChunkHasher;
  /**
   * A pipe whose readable side declares `length` bytes, so a response built on it is sent with that
   * Content-Length and, when the writer aborts, ends short of it: a transport error for every HTTP client.
   */
  exactLengthPipe(length: number): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  /**
   * True when a write to `exactLengthPipe`'s writable resolves only once whatever consumes the readable has taken
   * the bytes out of the chunk (copied them, or sent them), so the writer may refill the chunk's buffer as soon as
   * the write resolved. The download then cycles through two chunk buffers instead of allocating one per chunk.
   * False where a write resolves as soon as the chunk is queued and the consumer reads the caller's buffer later.
   */
  readonly writeReleasesChunk: boolean;
}

/** Fed one chunk's pieces in order, then asked once for their digest. It must not keep or alter a piece. */
export interface ChunkHasher {
  update(piece: Uint8Array): void;
  digest(): Uint8Array;
}

/** Fed every chunk in order, then asked once for the digest of all of them. It must not keep or alter a chunk. */
export interface WholeHasher {
  update(chunk: Uint8Array): void | Promise<void>;
  digest(): Promise<Uint8Array>;
}
