import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { transferProgress } from "./progress.ts";

/** SHA-256 (hex) and size of a file, read once as a stream: the signature must cover the digest before the upload starts. */
export async function digestFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}

/**
 * The file as a web stream for `fetch`, advancing a progress bar as bytes leave; `done` removes the bar. If the file changes after
 * `digestFile`, the gateway refuses it (`digest_mismatch`) and keeps the previous version.
 */
export function fileBody(path: string, size: number): { body: ReadableStream<Uint8Array>; done: () => void } {
  const progress = transferProgress("put", size);
  const counted = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      progress.advance(chunk.length);
      controller.enqueue(chunk);
    },
  });
  return { body: (Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>).pipeThrough(counted), done: () => progress.stop() };
}
