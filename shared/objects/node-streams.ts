import { createHash } from "node:crypto";
import { VerigateError } from "../errors/index.ts";
import type { StreamRuntime, WholeHasher } from "./stream-runtime.ts";

/**
 * Node's pieces (Lambda and the local Node server): `crypto.createHash` for whole-body SHA-256, and a
 * pass-through TransformStream standing in for workerd's `FixedLengthStream`. Node has no stream type that
 * carries a length, so the response's own Content-Length header declares it; what this pipe adds is that
 * its readable errors instead of ending cleanly whenever fewer or more than `length` bytes went in, and
 * errors when the writer aborts, so the HTTP layer cuts the response short of that header.
 */
export const nodeStreams: StreamRuntime = {
  wholeHasher: nodeHasher,
  exactLengthPipe,
};

function nodeHasher(): WholeHasher {
  const hash = createHash("sha256");
  return {
    update: (chunk) => {
      hash.update(chunk);
    },
    digest: async () => new Uint8Array(hash.digest()),
  };
}

function exactLengthPipe(length: number): TransformStream<Uint8Array, Uint8Array> {
  let written = 0;
  return new TransformStream({
    transform(chunk, controller) {
      written += chunk.byteLength;
      if (written > length) throw new VerigateError("internal", `pipe of ${length} bytes was given ${written}`);
      controller.enqueue(chunk);
    },
    flush() {
      if (written < length) throw new VerigateError("internal", `pipe of ${length} bytes closed after ${written}`);
    },
  });
}
