import { isVerigateError, VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import type { ByteRange, StoredBlob } from "../storage/index.ts";
import { chunkDigests } from "./chunk-digests.ts";
import { chunkReader } from "./chunk-reader.ts";
import { integrityLogger, verifiedChunks, type VerifiedChunks } from "./chunk-verifier.ts";
import type { ObjectDeps } from "./deps.ts";
import type { Manifest } from "./manifest.ts";

export interface OpenOptions {
  /** The bytes to read, within the object; absent or null reads the whole object. */
  span?: ByteRange | null | undefined;
  requestId: string;
}

type DownloadDeps = Pick<ObjectDeps, "storage" | "log" | "streams">;

/**
 * Opens `manifest`'s bytes (or the chunks covering `span`) and verifies the first chunk before returning,
 * so a mismatch there is a clean `integrity_failure` (502). Later chunks are verified by a background pump
 * before they are written; a mismatch aborts the stream, which then ends short of the span's length.
 * Every mismatch is logged as an `integrity_failure` event. At most two chunks are held: one being written
 * while the next is verified. Where the runtime's pipe is done with a chunk once its write resolved
 * (`writeReleasesChunk`), those two buffers are reused for every chunk: a fresh 1 MiB buffer per chunk is
 * external memory that piles up until the next garbage collection (on workerd, a download's peak RSS over idle
 * measured 58-70 MiB with fresh buffers and 5-16 MiB with reused ones: bench/README.md).
 *
 * A v2 manifest's digests come from its tree (chunk-digests.ts): the pages on the span's path, one per level at a time.
 *
 * Returns exactly the span's bytes, each verified before it was written, or an error part way. The stream
 * comes from the runtime's exact-length pipe, so a response built on it declares that length; status and
 * headers are the HTTP layer's (functions/http/serve.ts).
 */
export async function openVerified(deps: DownloadDeps, manifest: Manifest, options: OpenOptions): Promise<ReadableStream<Uint8Array>> {
  const span = options.span ?? { offset: 0, length: manifest.size };
  const chunkSize = manifest.chunk_size;
  const firstChunk = Math.floor(span.offset / chunkSize);
  const endChunk = span.length === 0 ? firstChunk : Math.floor((span.offset + span.length - 1) / chunkSize) + 1;
  const fetchOffset = firstChunk * chunkSize;
  const fetchRange = options.span ? { offset: fetchOffset, length: Math.min(manifest.size, endChunk * chunkSize) - fetchOffset } : undefined;
  const integrityFailure = integrityLogger(deps, manifest, options.requestId);
  const digests = chunkDigests(deps, manifest);
  // The first chunk's digest (for a v2 manifest, its tree pages) is fetched while the blob is opened; the verifier
  // asks for it again and gets the same fetch, and reports its failure.
  if (endChunk > firstChunk) handled(digests.digest(firstChunk));

  let stored: StoredBlob | null;
  try {
    stored = await deps.storage.get(manifest.blob, fetchRange);
  } catch (error) {
    throw new VerigateError("internal", "storage read failed", { cause: error });
  }
  if (!stored) throw integrityFailure({ chunk: null, reason: "blob_missing" });
  if (stored.size !== manifest.size) {
    stored.body.cancel().catch(() => {});
    throw integrityFailure({ chunk: null, reason: "size_mismatch", expected_size: manifest.size, actual_size: stored.size });
  }

  const chunks = verifiedChunks(chunkReader(stored.body), manifest, digests, span, integrityFailure);
  let first: Uint8Array<ArrayBuffer> | undefined;
  if (endChunk > firstChunk) {
    try {
      first = await chunks.read(firstChunk);
    } catch (error) {
      chunks.cancel(error);
      throw error;
    }
  }

  const pipe = deps.streams.exactLengthPipe(span.length);
  const recycle = deps.streams.writeReleasesChunk;
  void pump(pipe.writable.getWriter(), chunks, { first, nextChunk: firstChunk + 1, endChunk, recycle }, (error) =>
    deps.log.log("warn", "download_interrupted", {
      key: manifest.key,
      version: manifest.version,
      request_id: options.requestId,
      ...describeError(error),
    }),
  );
  return pipe.readable;
}

interface PumpPlan {
  /** The first chunk, already verified. */
  first: Uint8Array<ArrayBuffer> | undefined;
  nextChunk: number;
  endChunk: number;
  /** Whether a chunk's buffer may be refilled once its write resolved (`StreamRuntime.writeReleasesChunk`). */
  recycle: boolean;
}

/**
 * Writes verified chunks in order, reading and verifying the next while the previous is written.
 * It settles on every path and never rejects, so nothing it does becomes an unhandled rejection.
 */
async function pump(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  chunks: VerifiedChunks,
  plan: PumpPlan,
  onInterrupted: (error: unknown) => void,
): Promise<void> {
  let writing = plan.first ? writeFirst(writer, plan.first) : Promise.resolve();
  let inFlight = plan.first?.buffer;
  let spare: ArrayBuffer | undefined;
  try {
    for (let index = plan.nextChunk; index < plan.endChunk; index++) {
      const bytes = await chunks.read(index, spare);
      await writing;
      // The write that just resolved released its chunk: that buffer takes the chunk after this one.
      spare = plan.recycle ? inFlight : undefined;
      inFlight = bytes.buffer;
      await writer.ready;
      writing = handled(writer.write(bytes));
    }
    await writing;
    await writer.close();
  } catch (error) {
    // An integrity failure was logged where it was found; anything else is a client gone or storage failing.
    if (!(isVerigateError(error) && error.code === "integrity_failure")) onInterrupted(error);
    // The abort waits until the last write was taken (see `writeFirst`), so the status line is out before it.
    await writing.catch(() => {});
    await writer.abort(error).catch(() => {});
  } finally {
    chunks.cancel();
  }
}

/**
 * Writes the first verified bytes as two writes and returns the second. workerd sends the status line with
 * the first body bytes and takes the next write only once that socket write finished, while an abort
 * cancels a socket write in flight: aborting right after a lone first write was taken dropped the
 * connection before the status line (issue #10, finding 9). Once the second write is taken, the status line
 * and the first byte are on the wire, and a later failure can only end the body short.
 */
function writeFirst(writer: WritableStreamDefaultWriter<Uint8Array>, first: Uint8Array<ArrayBuffer>): Promise<void> {
  if (first.length < 2) return handled(writer.write(first));
  handled(writer.write(first.subarray(0, 1)));
  return handled(writer.write(first.subarray(1)));
}

/** Marks a promise handled now, so its rejection is not reported before it is awaited; awaiting it still throws. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
