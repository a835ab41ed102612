import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { toHex } from "../../shared/crypto/encoding.ts";
import { VerigateIntegrityError } from "../sdk/errors.ts";
import type { ExpectedContent } from "../sdk/integrity.ts";
import { EXIT_INTERRUPTED } from "./exit-codes.ts";
import { transferProgress } from "./progress.ts";

/** Enough randomness that two downloads to the same target never share a temporary file. */
const TEMP_SUFFIX_BYTES = 6;

/**
 * Streams `body` to a temporary file beside `target` while hashing it, and renames it over `target` only
 * once its length and SHA-256 are the expected ones. On any failure, and on Ctrl-C, the temporary file is
 * removed, so `target` is either the verified object or untouched. Being in the same directory makes the
 * final rename atomic.
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
    let received = 0;
    for await (const chunk of readChunks(body, expected.size)) {
      received += chunk.length;
      if (received > expected.size) throw new VerigateIntegrityError("size_mismatch", `more than the ${expected.size} bytes announced`);
      hash.update(chunk);
      await file.write(chunk);
      progress.advance(chunk.length);
    }
    if (received < expected.size) throw shortResponse(received, expected.size);
    const actual = toHex(hash.digest());
    if (actual !== expected.sha256) {
      throw new VerigateIntegrityError("digest_mismatch", `sha256 of the received bytes is ${actual}, expected ${expected.sha256}`);
    }
    // On disk before the rename, so a crash never leaves a verified name over unwritten bytes.
    await file.sync();
    await file.close();
    await rename(temp, target);
  } catch (error) {
    await file.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  } finally {
    progress.stop();
    process.off("SIGINT", removeOnSignal).off("SIGTERM", removeOnSignal);
  }
}

/**
 * The body's chunks; a read that fails is a cut response. The gateway cuts a response when it finds stored
 * bytes that fail their manifest after the first byte was sent, so a cut is reported as an integrity failure.
 */
async function* readChunks(body: ReadableStream<Uint8Array> | null, size: number): AsyncGenerator<Uint8Array> {
  if (body === null) return;
  const reader = body.getReader();
  let received = 0;
  try {
    while (true) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        throw shortResponse(received, size, error);
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
