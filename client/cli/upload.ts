import { type FileHandle, open } from "node:fs/promises";
import { MIB } from "../../shared/bytes.ts";
import { transferProgress } from "./progress.ts";

/** One read per pull: large enough for few syscalls, small next to the memory an upload may use. */
const READ_CHUNK_BYTES = MIB;

/**
 * The file as a web stream for `fetch`, advancing a progress bar as bytes leave; `done` removes the bar. If the file changes after
 * `digestFile` (file-hash.ts), the gateway refuses it (`digest_mismatch`) and keeps the previous version.
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
