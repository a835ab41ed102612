import { timingSafeEqual, toHex } from "../crypto/encoding.ts";
import { isVerigateError, SHARE, VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import { commitCurrent } from "./commit.ts";
import type { ObjectDeps } from "./deps.ts";
import { DigestTreeBuilder, TREE_FANOUT, treePagesPrefix } from "./digest-tree.ts";
import { deleteTreePages, GC_GRACE_MS, MAX_UPLOAD_DURATION_MS, scheduleGarbage, treeGarbage, type TreeGarbage } from "./garbage.ts";
import { streamHashed } from "./hashed-stream.ts";
import { commitCondition, refusal, type WritePrecondition } from "./precondition.ts";
import { DEFAULT_CONTENT_TYPE, type Manifest, readCurrent, versionKey } from "./manifest.ts";
import { blobKeyFor, newVersion } from "./version.ts";

const SHA256_BYTES = 32;

export interface PutObjectInput extends WritePrecondition {
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
  requestId: string;
}

/**
 * Streams a new version of `input.key` to storage under a fresh blob key while hashing it per chunk and whole,
 * then commits its manifest, only after the whole digest matched `expectedSha256`, through one atomic swap
 * of the current manifest under the request's precondition. On any failure nothing new is visible and the
 * previous version still reads back.
 *
 * Throws `too_large` (before reading), `already_exists` / `precondition_failed` (before reading, and when the
 * commit's condition no longer holds: another writer got there first), `bad_request` when the body ends short
 * of or runs past `length` (a framing error, not a digest one: a cut connection looks like this),
 * `digest_mismatch`, and `internal` for storage failures.
 */
export async function putObject(deps: ObjectDeps, input: PutObjectInput): Promise<Manifest> {
  if (!Number.isSafeInteger(input.length) || input.length < 0) throw new VerigateError("bad_request", "length");
  if (input.expectedSha256.length !== SHA256_BYTES) throw new VerigateError("bad_request", "expected SHA-256 is not 32 bytes");
  if (input.length > input.maxObjectBytes) {
    throw new VerigateError("too_large", `${input.length} bytes declared; the limit is ${input.maxObjectBytes}`, SHARE);
  }
  const startedMs = deps.clock();
  // Checked here only to refuse before streaming; the commit below is what enforces the precondition.
  const expected = await readCurrent(deps.metadata, input.key);
  const condition = commitCondition(input, expected);

  const version = newVersion(startedMs);
  const blob = blobKeyFor(version);
  const pages = treePagesPrefix(version);
  const tree = treeGarbage({ pages, fanout: TREE_FANOUT }, Math.ceil(input.length / input.chunkSize));
  // Written before any byte is stored, so a blob (and tree) whose upload dies with the isolate is still swept.
  const pendingGcKey = await scheduleGarbage(deps.metadata, startedMs + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS, {
    key: input.key,
    version,
    blob,
    ...(tree ? { tree } : {}),
  });
  const upload = { version, blob, tree, pendingGcKey };

  let digests: Pick<Manifest, "chunks" | "tree">;
  try {
    digests = await streamToStorage(deps, blob, input, new DigestTreeBuilder(deps.storage, pages));
    if (deps.clock() - startedMs > MAX_UPLOAD_DURATION_MS) {
      throw new VerigateError("internal", "upload outlasted MAX_UPLOAD_DURATION_MS; its blob may already be swept");
    }
  } catch (error) {
    await discardUpload(deps, upload, input.requestId);
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
    ...digests,
    content_type: input.contentType ?? DEFAULT_CONTENT_TYPE,
    created_at: new Date(deps.clock()).toISOString(),
    keyid: input.keyid,
    blob,
  };
  await deps.metadata.put(versionKey(version), manifest);
  const committed = await commitCurrent(deps, input.key, manifest, condition, expected);
  if (!committed.done) {
    // Another writer committed first: this version was never current, so nothing can be reading it.
    await discardUpload(deps, upload, input.requestId);
    throw refusal(condition, "another writer committed first");
  }
  return manifest;
}

/**
 * Returns the per-chunk digests (inline, or the digest tree `tree` built as the chunks went by, its pages written as
 * they filled) once storage holds exactly the body and its whole digest matched.
 */
async function streamToStorage(deps: ObjectDeps, blob: string, input: PutObjectInput, tree: DigestTreeBuilder): Promise<Pick<Manifest, "chunks" | "tree">> {
  const onChunkDigest = (digest: Uint8Array) => tree.add(digest);
  const { sha256 } = await streamHashed(deps.streams, { body: input.body, length: input.length, chunkSize: input.chunkSize, onChunkDigest }, (hashed) =>
    deps.storage.put(blob, hashed, {
      length: input.length,
      sha256: input.expectedSha256,
      ...(input.contentType ? { contentType: input.contentType } : {}),
    }),
  );
  if (!timingSafeEqual(sha256, input.expectedSha256)) {
    throw new VerigateError("digest_mismatch", "whole-body SHA-256 differs from Content-Digest");
  }
  return tree.finish();
}

/**
 * Best effort: whatever stays behind, the pending record sweeps (it deletes the tree pages, blob and `ver:` of a
 * version that is not current). A PUT's tree is small: 5 GiB (the stores' single-put maximum) of 64 KiB chunks has 81 pages.
 */
async function discardUpload(
  deps: ObjectDeps,
  upload: { version: string; blob: string; tree: TreeGarbage | undefined; pendingGcKey: string },
  requestId: string,
): Promise<void> {
  try {
    await deps.metadata.delete(versionKey(upload.version));
    if (upload.tree) await deleteTreePages(deps.storage, upload.tree);
    await deps.storage.delete(upload.blob);
    await deps.metadata.delete(upload.pendingGcKey);
  } catch (error) {
    deps.log.log("warn", "upload_cleanup_failed", { blob: upload.blob, request_id: requestId, ...describeError(error) });
  }
}
