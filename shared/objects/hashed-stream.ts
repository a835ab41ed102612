import { VerigateError } from "../errors/index.ts";
import type { StreamRuntime } from "../streams/index.ts";
import { chunkReader, type ChunkReader } from "./chunk-reader.ts";

export interface HashedSource {
  /** Null for an empty body. */
  body: ReadableStream<Uint8Array> | null;
  /** The declared length: the body must hold exactly this many bytes. */
  length: number;
  chunkSize: number;
  /** Called with each chunk's SHA-256 in order, before the chunk goes to the sink; omitted, no chunk is hashed alone. */
  onChunkDigest?: ((digest: Uint8Array) => void | Promise<void>) | undefined;
}

/**
 * Hands `sink` a stream of exactly `source.length` bytes of the body, in `chunkSize` pieces, hashing them whole
 * (the runtime's native hasher) and per chunk while they pass; returns what the sink returned and the whole
 * SHA-256, which the caller compares with what the client signed. Shared by PUT and upload-session parts.
 *
 * A body that ends short of or runs past `length` fails the sink's stream with `bad_request` (a framing error,
 * not a digest one: a cut connection looks like this), and that failure is what this rejects with, whatever
 * error the sink reports for its aborted input.
 */
export async function streamHashed<T>(
  streams: Pick<StreamRuntime, "wholeHasher">,
  source: HashedSource,
  sink: (hashed: ReadableStream<Uint8Array>) => Promise<T>,
): Promise<{ result: T; sha256: Uint8Array }> {
  const hasher = streams.wholeHasher();
  const reader = chunkReader(source.body ?? new Blob([]).stream());
  const { length, chunkSize, onChunkDigest } = source;
  let remaining = length;
  let failure: unknown;

  const hashed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (remaining > 0) {
          const want = Math.min(chunkSize, remaining);
          const chunk = await readBody(reader, want);
          if (chunk.length < want) {
            throw new VerigateError("bad_request", `body ended after ${length - remaining + chunk.length} of ${length} bytes`);
          }
          remaining -= want;
          // Checked before the last chunk goes out: R2 keeps a body whose every byte arrived even if the
          // stream errors afterwards (measured).
          if (remaining === 0) await expectEnd(reader, length);
          if (onChunkDigest) {
            const [digest] = await Promise.all([crypto.subtle.digest("SHA-256", chunk), hasher.update(chunk)]);
            await onChunkDigest(new Uint8Array(digest));
          } else {
            await hasher.update(chunk);
          }
          controller.enqueue(chunk);
        } else {
          await expectEnd(reader, length);
        }
        if (remaining === 0) controller.close();
      } catch (error) {
        failure ??= error;
        controller.error(error);
        reader.cancel(error).catch(() => {});
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });

  let result: T;
  try {
    result = await sink(hashed);
  } catch (error) {
    // Storage reports an aborted body as its own error; the reason this side aborted is the real one.
    throw failure ?? error;
  }
  return { result, sha256: await hasher.digest() };
}

async function readBody(reader: ChunkReader, size: number): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await reader.read(size);
  } catch (error) {
    throw new VerigateError("bad_request", "request body stream failed", { cause: error });
  }
}

async function expectEnd(reader: ChunkReader, length: number): Promise<void> {
  if ((await readBody(reader, 1)).length > 0) throw new VerigateError("bad_request", `body runs past its declared ${length} bytes`);
}
