import type { StreamRuntime, WholeHasher } from "./index.ts";

/**
 * The Workers runtime's native pieces: `crypto.DigestStream` for whole-body SHA-256, `FixedLengthStream` for exact
 * lengths. workerd resolves a write to `FixedLengthStream` only once the consumer took its bytes, and is done with the
 * caller's buffer by then (today it copies the chunk when `write` is called, which is more than the download needs),
 * so a written chunk's buffer is free again when the write resolves: pinned by
 * test/workerd/fixed-length-stream-writes.test.ts and the stream contract.
 */
export const workerdStreams: StreamRuntime = {
  wholeHasher: digestStreamHasher,
  // Native, on the request's own thread, straight from the caller's buffer.
  chunkSha256: async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
  exactLengthPipe: (length) => new FixedLengthStream(length),
  writeReleasesChunk: true,
};

/** workerd hangs `DigestStream` off `crypto`, where the DOM typing of `crypto` does not know it. */
const workerdCrypto = crypto as unknown as { DigestStream: typeof DigestStream };

function digestStreamHasher(): WholeHasher {
  const stream = new workerdCrypto.DigestStream("SHA-256");
  const writer = stream.getWriter();
  return {
    update: (chunk) => writer.write(chunk),
    async digest() {
      await writer.close();
      return new Uint8Array(await stream.digest);
    },
  };
}
