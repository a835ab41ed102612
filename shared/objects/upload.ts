import { timingSafeEqual, toHex } from "../crypto/encoding.ts";
import { isVerigateError, VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import { chunkReader, type ChunkReader } from "./chunk-reader.ts";
import type { ObjectDeps } from "./deps.ts";
import { GC_GRACE_MS, MAX_UPLOAD_DURATION_MS, scheduleGarbage } from "./garbage.ts";
import { ifMatchHolds } from "./headers.ts";
import { currentKey, DEFAULT_CONTENT_TYPE, type Manifest, readCurrent, versionKey } from "./manifest.ts";
import { blobKeyFor, newVersion } from "./version.ts";

const SHA256_BYTES = 32;

export interface PutObjectInput {
  key: string;
  /** Null for an empty body. */
  body: ReadableStream<Uint8Array> | null;
  /** The declared Content-Length. */
  length: number;
  /** The signed Content-Digest's SHA-256. */
  expectedSha256: Uint8Array;
  contentType?: string | undefined;
  keyid: string;
  chunkSize: number;
  maxObjectBytes: number;
  /** `If-None-Match: *` was sent. */
  ifNoneMatch?: boolean | undefined;
  /** The raw `If-Match` header. */
  ifMatch?: string | undefined;
  requestId: string;
}

/**
 * Streams a new version of `input.key` to storage under a fresh blob key while hashing it per chunk and whole,
 * then commits its manifest, only after the whole digest matched `expectedSha256` and the preconditions still
 * hold. On any failure nothing new is visible and the previous version still reads back.
 *
 * Throws `too_large` (before reading), `already_exists` / `precondition_failed` (before reading, and again
 * before commit), `bad_request` when the body ends short of or runs past `length` (a framing error, not a
 * digest one: a cut connection looks like this), `digest_mismatch`, and `internal` for storage failures.
 */
export async function putObject(deps: ObjectDeps, input: PutObjectInput): Promise<Manifest> {
  if (!Number.isSafeInteger(input.length) || input.length < 0) throw new VerigateError("bad_request", "length");
  if (input.expectedSha256.length !== SHA256_BYTES) throw new VerigateError("bad_request", "expected SHA-256 is not 32 bytes");
  if (input.length > input.maxObjectBytes) {
    throw new VerigateError("too_large", `${input.length} bytes declared, limit ${input.maxObjectBytes}`);
  }
  const startedMs = deps.clock();
  checkPreconditions(input, await readCurrent(deps.metadata, input.key));

  const version = newVersion(startedMs);
  const blob = blobKeyFor(version);
  // Written before any byte is stored, so a blob whose upload dies with the isolate is still swept.
  const pendingGcKey = await scheduleGarbage(deps.metadata, startedMs + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS, {
    key: input.key,
    version,
    blob,
  });

  let chunks: string[];
  let previous: Manifest | null;
  try {
    chunks = await streamToStorage(deps, blob, input);
    if (deps.clock() - startedMs > MAX_UPLOAD_DURATION_MS) {
      throw new VerigateError("internal", "upload outlasted MAX_UPLOAD_DURATION_MS; its blob may already be swept");
    }
    previous = await readCurrent(deps.metadata, input.key);
    checkPreconditions(input, previous);
  } catch (error) {
    await discardBlob(deps, blob, pendingGcKey, input.requestId);
    throw isVerigateError(error) ? error : new VerigateError("internal", "upload failed", { cause: error });
  }

  // From here a failure leaves the blob alone: a write that reported failure may still have landed, and
  // the pending record sweeps the blob later unless this version turned out current.
  const manifest: Manifest = {
    key: input.key,
    version,
    size: input.length,
    sha256: toHex(input.expectedSha256),
    chunk_size: input.chunkSize,
    chunks,
    content_type: input.contentType ?? DEFAULT_CONTENT_TYPE,
    created_at: new Date(deps.clock()).toISOString(),
    keyid: input.keyid,
    blob,
  };
  await deps.metadata.put(versionKey(version), manifest);
  if (previous) await scheduleGarbage(deps.metadata, deps.clock() + GC_GRACE_MS, previous);
  await deps.metadata.put(currentKey(input.key), manifest);
  return manifest;
}

function checkPreconditions(input: PutObjectInput, current: Manifest | null): void {
  if (input.ifNoneMatch && current) throw new VerigateError("already_exists", "If-None-Match: * and the key exists");
  if (input.ifMatch !== undefined && !ifMatchHolds(input.ifMatch, current)) {
    throw new VerigateError("precondition_failed", "If-Match does not name the current version");
  }
}

/** Returns the per-chunk digests once storage holds exactly the body and its whole digest matched. */
async function streamToStorage(deps: ObjectDeps, blob: string, input: PutObjectInput): Promise<string[]> {
  const hasher = deps.streams.wholeHasher();
  const reader = chunkReader(input.body ?? new Blob([]).stream());
  const chunks: string[] = [];
  let remaining = input.length;
  let failure: unknown;

  const hashed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (remaining > 0) {
          const want = Math.min(input.chunkSize, remaining);
          const chunk = await readBody(reader, want);
          if (chunk.length < want) {
            throw new VerigateError("bad_request", `body ended after ${input.length - remaining + chunk.length} of ${input.length} bytes`);
          }
          remaining -= want;
          // Checked before the last chunk goes out: R2 keeps a body whose every byte arrived even if the
          // stream errors afterwards (measured).
          if (remaining === 0) await expectEnd(reader, input.length);
          const [digest] = await Promise.all([crypto.subtle.digest("SHA-256", chunk), hasher.update(chunk)]);
          chunks.push(toHex(new Uint8Array(digest)));
          controller.enqueue(chunk);
        } else {
          await expectEnd(reader, input.length);
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

  try {
    await deps.storage.put(blob, hashed, {
      length: input.length,
      sha256: input.expectedSha256,
      ...(input.contentType ? { contentType: input.contentType } : {}),
    });
  } catch (error) {
    // Storage reports an aborted body as its own error; the reason this side aborted is the real one.
    throw failure ?? error;
  }
  if (!timingSafeEqual(await hasher.digest(), input.expectedSha256)) {
    throw new VerigateError("digest_mismatch", "whole-body SHA-256 differs from Content-Digest");
  }
  return chunks;
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

/** Best effort: whatever stays behind, the pending record sweeps. */
async function discardBlob(deps: ObjectDeps, blob: string, pendingGcKey: string, requestId: string): Promise<void> {
  try {
    await deps.storage.delete(blob);
    await deps.metadata.delete(pendingGcKey);
  } catch (error) {
    deps.log.log("warn", "upload_cleanup_failed", { blob, request_id: requestId, ...describeError(error) });
  }
}
