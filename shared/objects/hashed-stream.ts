import { VerigateError } from "../errors/index.ts";
import type { ObjectCipher } from "../crypto/chunk-aead.ts";
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
  /**
   * Seals each chunk for encryption at rest (docs/ENCRYPTION.md): the whole hash stays the plaintext's (the client's
   * Content-Digest), while the chunk digest and the sink get the ciphertext with its tag, so nothing derived from
   * plaintext reaches storage.
   */
  sealing?: Sealing | undefined;
}

/** Where the body's chunks sit in the encrypted object: a session part starts past chunk 0 and may not end the object. */
export interface Sealing {
  cipher: ObjectCipher;
  /** The object's chunk index of the body's first chunk. */
  firstChunk: number;
  /** Whether the body's last chunk is the object's, sealed with the last flag; an empty body then still yields one chunk, the bare tag. */
  endsObject: boolean;
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
  const { length, chunkSize, onChunkDigest, sealing } = source;
  let remaining = length;
  let index = sealing?.firstChunk ?? 0;
  let failure: unknown;
  const emit = async (controller: ReadableStreamDefaultController<Uint8Array>, plaintext: Uint8Array<ArrayBuffer>) => {
    const stored = sealing ? await sealing.cipher.encrypt(index, sealing.endsObject && remaining === 0, plaintext) : plaintext;
    index++;
    if (onChunkDigest) await onChunkDigest(new Uint8Array(await crypto.subtle.digest("SHA-256", stored)));
    controller.enqueue(stored);
  };

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
          if (onChunkDigest && !sealing) {
            const [digest] = await Promise.all([crypto.subtle.digest("SHA-256", chunk), hasher.update(chunk)]);
            await onChunkDigest(new Uint8Array(digest));
            controller.enqueue(chunk);
          } else {
            await hasher.update(chunk);
            await emit(controller, chunk);
          }
        } else {
          await expectEnd(reader, length);
          // An encrypted empty object is one chunk: the tag that authenticates its end.
          if (sealing?.endsObject && length === 0) await emit(controller, new Uint8Array(0));
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
