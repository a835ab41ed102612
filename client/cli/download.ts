import { createHash, type Hash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { toHex } from "../../shared/crypto/encoding.ts";
import { VerigateIntegrityError } from "../sdk/errors.ts";
import type { ExpectedContent } from "../sdk/integrity.ts";
import { EXIT_INTERRUPTED } from "./exit-codes.ts";
import { type Progress, transferProgress } from "./progress.ts";

/** Enough randomness that two downloads to the same target never share a temporary file. */
const TEMP_SUFFIX_BYTES = 6;

/**
 * Streams `body` to a temporary file beside `target` while hashing it, and renames it over `target` only
 * once its length and SHA-256 are the expected ones. On any failure, and on Ctrl-C, the temporary file is
 * removed, so `target` is either the verified object or untouched. Being in the same directory makes the
 * final rename atomic. For a link (`presign -o`), which cannot be resumed; `get` resumes (partial-download.ts).
 */
export async function saveVerified(body: ReadableStream<Uint8Array> | null, expected: ExpectedContent, target: string): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.${toHex(randomBytes(TEMP_SUFFIX_BYTES))}.verigate-partial`);
  const file = await open(temp, "wx");
  const removeOnSignal = () => {
    rmSync(temp, { force: true });
    process.exit(EXIT_INTERRUPTED);
  };
  process.once("SIGINT", removeOnSignal).once("SIGTERM", removeOnSignal);
  const progress = transferProgress("get", expected.size);
  try {
    const hash = createHash("sha256");
    await writeBody(body, { file, position: 0, hash, progress }, expected.size);
    await keepVerified(file, hash, expected, temp, target);
  } catch (error) {
    await file.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  } finally {
    progress.stop();
    process.off("SIGINT", removeOnSignal).off("SIGTERM", removeOnSignal);
  }
}

/** Where the bytes of a response go: `file` from `position` on, hashed into `hash` after the bytes before them. */
export interface BodySink {
  file: FileHandle;
  position: number;
  hash: Hash;
  progress: Progress;
}

/**
 * Writes `body` through `sink` in order, so whatever is on disk when this stops (a cut, a kill) is a prefix of
 * the body; `sink.position` follows the bytes written. Throws `size_mismatch` past `size` bytes in all and
 * `short_response` when the body ends before.
 */
export async function writeBody(body: ReadableStream<Uint8Array> | null, sink: BodySink, size: number): Promise<void> {
  const start = sink.position;
  for await (const chunk of readChunks(body, (received, error) => shortResponse(start + received, size, error))) {
    if (sink.position + chunk.length > size) throw new VerigateIntegrityError("size_mismatch", `more than the ${size} bytes announced`);
    sink.hash.update(chunk);
    await sink.file.write(chunk, 0, chunk.length, sink.position);
    sink.position += chunk.length;
    sink.progress.advance(chunk.length);
  }
  if (sink.position < size) throw shortResponse(sink.position, size);
}

/** Renames `path` (open as `file`) over `target` once `hash` is the expected SHA-256; throws `digest_mismatch` otherwise. */
export async function keepVerified(file: FileHandle, hash: Hash, expected: ExpectedContent, path: string, target: string): Promise<void> {
  const actual = toHex(hash.digest());
  if (actual !== expected.sha256) {
    throw new VerigateIntegrityError("digest_mismatch", `sha256 of the received bytes is ${actual}, expected ${expected.sha256}`);
  }
  // On disk before the rename, so a crash never leaves a verified name over unwritten bytes.
  await file.sync();
  await file.close();
  await rename(path, target);
}

/**
 * The body's pieces as they arrive; a read that fails is a cut response, reported as `cut(received, error)` with the
 * bytes this body gave before it. A cut is an integrity failure: the gateway cuts a response when it finds stored
 * bytes that fail their manifest after the first byte was sent.
 */
async function* readChunks(body: ReadableStream<Uint8Array> | null, cut: (received: number, error: unknown) => Error): AsyncGenerator<Uint8Array> {
  if (body === null) return;
  const reader = body.getReader();
  let received = 0;
  try {
    while (true) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        throw cut(received, error);
      }
      if (next.done) return;
      received += next.value.length;
      yield next.value;
    }
  } finally {
    // Stops the transfer when the consumer gives up early (too many bytes, a write error).
    await reader.cancel().catch(() => {});
  }
}

function shortResponse(received: number, size: number, cause?: unknown): VerigateIntegrityError {
  return new VerigateIntegrityError(
    "short_response",
    `the response ended after ${received} of ${size} bytes (the gateway cuts a download when stored bytes fail verification)`,
    { cause },
  );
}
