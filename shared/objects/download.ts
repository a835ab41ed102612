import { isVerigateError, VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import type { ByteRange, StoredBlob } from "../storage/index.ts";
import { ciphertextSpan, encryptedBlobSize } from "../crypto/chunk-layout.ts";
import { openObjectKey } from "../crypto/envelope.ts";
import { EncryptionFailure } from "../crypto/failures.ts";
import { chunkDigests } from "./chunk-digests.ts";
import { chunkReader } from "./chunk-reader.ts";
import { type EncryptedChunks, encryptionFailureError, integrityLogger, verifiedChunks, type VerifiedChunks } from "./chunk-verifier.ts";
import type { ObjectDeps } from "./deps.ts";
import type { StoredManifest } from "./manifest-signature.ts";

export interface OpenOptions {
  /** The bytes to read, within the object; absent or null reads the whole object. */
  span?: ByteRange | null | undefined;
  requestId: string;
}

type DownloadDeps = Pick<ObjectDeps, "storage" | "log" | "streams" | "config">;

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
 *
 * An encrypted object (docs/ENCRYPTION.md) has its data key opened before the blob is, so a wrapped key swapped from
 * another manifest, or a key id the ring lacks, is refused before any byte is read; then the whole chunks covering the
 * span are read, each checked against its ciphertext digest and then its tag, and only its plaintext is cut to the span.
 * Even an empty span reads and authenticates the chunk at its offset.
 */
export async function openVerified(deps: DownloadDeps, manifest: StoredManifest, options: OpenOptions): Promise<ReadableStream<Uint8Array>> {
  const span = options.span ?? { offset: 0, length: manifest.size };
  const integrityFailure = integrityLogger(deps, manifest, options.requestId);
  const encrypted = manifest.encryption ? await encryptedChunks(deps, manifest, options) : undefined;
  const layout = blobLayout(manifest, span, options.span != null, encrypted !== undefined);
  const { firstChunk, endChunk, fetchRange } = layout;
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
  if (stored.size !== layout.blobSize) {
    stored.body.cancel().catch(() => {});
    throw integrityFailure({ chunk: null, reason: "size_mismatch", expected_size: layout.blobSize, actual_size: stored.size });
  }

  const chunks = verifiedChunks(chunkReader(stored.body), deps.streams, manifest, digests, span, integrityFailure, encrypted);
  let first: Uint8Array<ArrayBuffer>[] | undefined;
  if (endChunk > firstChunk) {
    try {
      first = await chunks.read(firstChunk);
    } catch (error) {
      chunks.cancel(error);
      throw error;
    }
  }
  // An empty span's chunk was read only to authenticate it.
  if (span.length === 0) first = undefined;

  const pipe = deps.streams.exactLengthPipe(span.length);
  // A decrypted chunk is a fresh buffer a tag shorter than the next read: the verifier recycles ciphertext buffers itself,
  // and each plaintext buffer is dropped once its write resolved.
  const recycle = deps.streams.writeReleasesChunk && !encrypted;
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

/** The chunks a span needs, the blob range holding them, and the size the stored blob must have. */
function blobLayout(manifest: StoredManifest, span: ByteRange, ranged: boolean, encrypted: boolean) {
  const chunkSize = manifest.chunk_size;
  if (encrypted) {
    const sealed = ciphertextSpan(span, manifest.size, chunkSize);
    return {
      firstChunk: sealed.firstChunk,
      endChunk: sealed.endChunk,
      fetchRange: ranged ? sealed.range : undefined,
      blobSize: encryptedBlobSize(manifest.size, chunkSize),
    };
  }
  const firstChunk = Math.floor(span.offset / chunkSize);
  const endChunk = span.length === 0 ? firstChunk : Math.floor((span.offset + span.length - 1) / chunkSize) + 1;
  const fetchOffset = firstChunk * chunkSize;
  const fetchRange = ranged ? { offset: fetchOffset, length: Math.min(manifest.size, endChunk * chunkSize) - fetchOffset } : undefined;
  return { firstChunk, endChunk, fetchRange, blobSize: manifest.size };
}

/**
 * How an encrypted manifest's chunks are opened. Its data key is unwrapped here, before any byte of the blob is read: a
 * missing ring or key id (503 `misconfigured`) or a wrapped key that does not open for this key and version is refused
 * and logged first.
 */
async function encryptedChunks(deps: DownloadDeps, manifest: StoredManifest, options: OpenOptions): Promise<EncryptedChunks> {
  const refuse = (error: unknown) => (error instanceof EncryptionFailure ? encryptionFailureError(deps, manifest, options.requestId, error) : error);
  try {
    const { ring } = deps.config.encryption;
    if (!ring) throw new EncryptionFailure("key_unavailable", "the object is encrypted and ENCRYPTION_KEYS is not set");
    return { cipher: await openObjectKey(ring, manifest.encryption!, { key: manifest.key, version: manifest.version }), refuse };
  } catch (error) {
    throw refuse(error);
  }
}

interface PumpPlan {
  /** The first chunk's pieces, already verified. */
  first: Uint8Array<ArrayBuffer>[] | undefined;
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
  let inFlight = plan.first?.[0]?.buffer;
  let spare: ArrayBuffer | undefined;
  try {
    for (let index = plan.nextChunk; index < plan.endChunk; index++) {
      const pieces = await chunks.read(index, spare);
      await writing;
      // The write that just resolved released its chunk: that buffer takes the chunk after this one.
      spare = plan.recycle ? inFlight : undefined;
      inFlight = pieces[0]?.buffer;
      await writer.ready;
      writing = writePieces(writer, pieces);
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
 * Writes a chunk's pieces back to back and returns the last write, which resolves once all of them were taken (a
 * writer takes writes in order, and one failing fails the rest). Waiting for the writer's `ready` between them would
 * cost a promise hop per piece; at most one chunk is queued this way, as with a one-piece chunk.
 */
function writePieces(writer: WritableStreamDefaultWriter<Uint8Array>, pieces: Uint8Array<ArrayBuffer>[]): Promise<void> {
  let last = Promise.resolve();
  for (const piece of pieces) last = handled(writer.write(piece));
  return last;
}

/**
 * Writes the first verified bytes as two writes or more and returns the last. workerd sends the status line with
 * the first body bytes and takes the next write only once that socket write finished, while an abort
 * cancels a socket write in flight: aborting right after a lone first write was taken dropped the
 * connection before the status line (issue #10, finding 9). Once the second write is taken, the status line
 * and the first byte are on the wire, and a later failure can only end the body short.
 */
function writeFirst(writer: WritableStreamDefaultWriter<Uint8Array>, first: Uint8Array<ArrayBuffer>[]): Promise<void> {
  const [head, ...rest] = first;
  if (!head || head.length < 2) return writePieces(writer, first);
  handled(writer.write(head.subarray(0, 1)));
  return writePieces(writer, [head.subarray(1), ...rest]);
}

/** Marks a promise handled now, so its rejection is not reported before it is awaited; awaiting it still throws. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
