import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { MIB } from "../../shared/bytes.ts";
import { toHex } from "../../shared/crypto/encoding.ts";
import { transferProgress } from "./progress.ts";

/** One read per pull: large enough for few syscalls, small next to the memory an upload may use. */
const READ_CHUNK_BYTES = MIB;

/**
 * SHA-256 (hex) and size of a file, read once as a stream: the signature must cover the digest before the upload
 * starts. `expectedSize` sizes the progress bar (stderr, on a terminal, for large files), as hashing a large file
 * takes a while before the first byte leaves.
 */
export async function digestFile(path: string, expectedSize: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  const progress = transferProgress("hash", expectedSize);
  let size = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      progress.advance(chunk.length);
    }
  } finally {
    progress.stop();
  }
  return { sha256: toHex(hash.digest()), size };
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
  return { body: fileStream(path).pipeThrough(counted), done: () => progress.stop() };
}

/** A file read one chunk per pull, so it is read only as fast as the upload sends it (see stream-fetch.ts). */
function fileStream(path: string): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        handle ??= await open(path, "r");
        const buffer = new Uint8Array(READ_CHUNK_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) {
          await handle.close();
          controller.close();
          return;
        }
        controller.enqueue(buffer.subarray(0, bytesRead));
      },
      async cancel() {
        await handle?.close();
      },
    },
    { highWaterMark: 0 },
  );
}
