import { createHash } from "node:crypto";
import { VerigateError } from "../errors/index.ts";
import type { ChunkHasher, StreamRuntime, WholeHasher } from "./index.ts";

/**
 * Node's pieces (Lambda and the local Node server): `crypto.createHash` for whole-body SHA-256, and a
 * pass-through TransformStream standing in for workerd's `FixedLengthStream`. Node has no stream type that
 * carries a length, so the response's own Content-Length header declares it; what this pipe adds is that
 * its readable errors instead of ending cleanly whenever fewer or more than `length` bytes went in, and
 * errors when the writer aborts, so the HTTP layer cuts the response short of that header. The S3 backend
 * sends its upload bodies through the same pipe, since the SDK would otherwise send a short body unnoticed.
 */
export const nodeStreams: StreamRuntime = {
  wholeHasher: nodeHasher,
  chunkSha256,
  chunkHasher,
  exactLengthPipe,
  // A TransformStream resolves a write once the chunk is queued, and the HTTP layer's socket write reads the
  // caller's buffer later still: a refilled buffer would be sent instead of the verified bytes.
  writeReleasesChunk: false,
};

/**
 * `createHash` on the calling thread. Node's `crypto.subtle.digest` copies the bytes and hashes them on the libuv
 * thread pool: 1 MiB chunks from memory cost 750-1,000 ms of CPU per GiB that way against 600-750 ms here, and a
 * verified download through the Node server 6,350 against 4,670 ms per GiB (the server before and after this change
 * on one s3rver, interleaved, 5 rounds of 128 MiB, load 6.4-7.8; two earlier in-process A/Bs: 10 % and 21 % less).
 * The cost: the hash holds the event loop (about 0.7 ms per MiB) where the pool could spread concurrent downloads'
 * hashing over its threads. Lambda runs one request per instance, and the Node server is its local stand-in.
 */
async function chunkSha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return createHash("sha256").update(bytes).digest();
}

/**
 * A download's chunk hashed from the S3 body's own pieces (64 KiB from s3rver) as they arrive, which are then written
 * on uncopied: no copy into a fresh 1 MiB buffer per chunk, and each piece hashed while it is still in cache. Through
 * the Node server on one s3rver, interleaved with the copying reader in one process (256 MiB, 12 and 14 rounds, load
 * 3.0-3.6): gateway CPU 1,939 against 2,014 and 2,084 against 2,260 ms per GiB (median of the paired differences
 * 62 and 72 ms less), wall 491 against 504 and 529 against 584 ms; again at load 5.1-5.7, 2,206 against 2,302 ms;
 * at 128 MiB within the noise either way. Hashing the pieces only once the whole chunk had come measured no better
 * than copying: the cache is most of the gain, and sending 16 pieces per chunk instead of one costs back most of what
 * the copy did (bench/README.md, "The AWS build").
 */
function chunkHasher(): ChunkHasher {
  const hash = createHash("sha256");
  return {
    update: (piece) => {
      hash.update(piece);
    },
    digest: () => hash.digest(),
  };
}

function nodeHasher(): WholeHasher {
  const hash = createHash("sha256");
  return {
    update: (chunk) => {
      hash.update(chunk);
    },
    digest: async () => new Uint8Array(hash.digest()),
  };
}

/** Passes the bytes through unchanged, failing as soon as they run past `length` or when they end short of it. */
function exactLengthPipe(length: number): TransformStream<Uint8Array, Uint8Array> {
  let received = 0;
  return new TransformStream({
    transform(chunk, controller) {
      received += chunk.byteLength;
      if (received > length) throw new VerigateError("internal", `stream runs past its declared ${length} bytes`);
      controller.enqueue(chunk);
    },
    flush() {
      if (received < length) throw new VerigateError("internal", `stream ended at ${received} of its declared ${length} bytes`);
    },
  });
}
