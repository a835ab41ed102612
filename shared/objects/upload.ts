import type { ObjectCipher } from "../crypto/chunk-aead.ts";
import { encryptedBlobSize, encryptedChunkCount } from "../crypto/chunk-layout.ts";
import { timingSafeEqual, toHex } from "../crypto/encoding.ts";
import { type ManifestEncryption, newObjectKey } from "../crypto/envelope.ts";
import { isVerigateError, SHARE, VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import { commitCurrent } from "./commit.ts";
import type { ObjectDeps } from "./deps.ts";
import { DigestTreeBuilder, TREE_FANOUT, treePagesPrefix } from "./digest-tree.ts";
import { deleteTreePages, GC_GRACE_MS, MAX_UPLOAD_DURATION_MS, scheduleGarbage, treeGarbage, type TreeGarbage } from "./garbage.ts";
import { type HashedSource, streamHashed } from "./hashed-stream.ts";
import type { SwapCondition } from "../metadata/index.ts";
import type { PutOptions } from "../storage/index.ts";
import { commitCondition, refusal, type WritePrecondition } from "./precondition.ts";
import { DEFAULT_CONTENT_TYPE, type Manifest, readCurrent, sealManifest, versionKey } from "./manifest.ts";
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
  const expected = await readCurrent({ ...deps, requestId: input.requestId }, input.key);
  const condition = commitCondition(input, expected);

  const version = newVersion(startedMs);
  const blob = blobKeyFor(version);
  const pages = treePagesPrefix(version);
  // With ENCRYPTION_KEYS set every new version is encrypted at rest under a data key of its own (docs/ENCRYPTION.md).
  const ring = deps.config.encryption.ring;
  const sealed = ring ? await newObjectKey(ring, { key: input.key, version }) : undefined;
  const chunkCount = sealed ? encryptedChunkCount(input.length, input.chunkSize) : Math.ceil(input.length / input.chunkSize);
  const tree = treeGarbage({ pages, fanout: TREE_FANOUT }, chunkCount);
  // Written before any byte is stored, so a blob (and tree) whose upload dies with the isolate is still swept.
  const pendingGcKey = await scheduleGarbage(deps.metadata, startedMs + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS, {
    key: input.key,
    version,
    blob,
    ...(tree ? { tree } : {}),
  });
  const upload = { version, blob, tree, pendingGcKey };

  let digests: ManifestDigests;
  try {
    const store = (hashed: ReadableStream<Uint8Array>) => deps.storage.put(blob, hashed, storedAs(input, sealed?.cipher));
    const sealing = sealed && { cipher: sealed.cipher, firstChunk: 0, endsObject: true };
    const source = { body: input.body, length: input.length, chunkSize: input.chunkSize, sealing };
    const hashed = await hashChunks(deps, source, pages, store);
    if (!timingSafeEqual(hashed.sha256, input.expectedSha256)) {
      throw new VerigateError("digest_mismatch", "whole-body SHA-256 differs from Content-Digest");
    }
    digests = await hashed.finish();
    if (deps.clock() - startedMs > MAX_UPLOAD_DURATION_MS) {
      throw new VerigateError("internal", "upload outlasted MAX_UPLOAD_DURATION_MS; its blob may already be swept");
    }
  } catch (error) {
    await discardUpload(deps, upload, input.requestId);
    throw isVerigateError(error) ? error : new VerigateError("internal", "upload failed", { cause: error });
  }

  // From here a failure leaves the blob alone: a write that reported failure may still have landed, and
  // the pending record sweeps the blob later unless this version turned out current.
  const verified = {
    key: input.key,
    version,
    blob,
    size: input.length,
    sha256: input.expectedSha256,
    chunkSize: input.chunkSize,
    keyid: input.keyid,
    encryption: sealed?.encryption,
  };
  const committed = await commitVerifiedVersion(deps, { ...verified, contentType: input.contentType }, digests, condition, expected);
  if (!committed.done) {
    // Another writer committed first: this version was never current, so nothing can be reading it.
    await discardUpload(deps, upload, input.requestId);
    throw refusal(condition, "another writer committed first");
  }
  return committed.manifest;
}

/**
 * An encrypted blob is stored without the store-side whole checksum: its SHA-256 is unknown until the last chunk is
 * sealed, and the chunk digests and tags carry its integrity. It keeps no content type either: the store holds only ciphertext.
 */
function storedAs(input: PutObjectInput, cipher: ObjectCipher | undefined): PutOptions {
  if (cipher) return { length: encryptedBlobSize(input.length, input.chunkSize) };
  return { length: input.length, sha256: input.expectedSha256, ...(input.contentType ? { contentType: input.contentType } : {}) };
}

/** The chunk digests a manifest holds: inline, or the digest tree whose pages were written as they filled. */
export type ManifestDigests = Pick<Manifest, "chunks" | "tree">;

/**
 * Hands `sink` exactly `source.length` bytes of the body while hashing them per chunk (into the digest tree under
 * `pages`) and whole. The caller compares `sha256` with what the bytes must be before `finish` writes the tree's last
 * pages and returns the chunk digests. PUT hashes what it stores on the way in; an LFS verify hashes what storage holds.
 */
export async function hashChunks(
  deps: Pick<ObjectDeps, "storage" | "streams">,
  source: Omit<HashedSource, "onChunkDigest">,
  pages: string,
  sink: (hashed: ReadableStream<Uint8Array>) => Promise<unknown>,
): Promise<{ sha256: Uint8Array; finish: () => Promise<ManifestDigests> }> {
  const tree = new DigestTreeBuilder(deps.storage, pages);
  const { sha256 } = await streamHashed(deps.streams, { ...source, onChunkDigest: (digest) => tree.add(digest) }, sink);
  return { sha256, finish: () => tree.finish() };
}

/** A version whose every byte was hashed and matched `sha256`, ready to commit. */
export interface VerifiedVersion {
  key: string;
  version: string;
  blob: string;
  size: number;
  sha256: Uint8Array;
  chunkSize: number;
  contentType?: string | undefined;
  keyid: string;
  /** The wrapped data key of an encrypted version. */
  encryption?: ManifestEncryption | undefined;
}

/**
 * Writes the manifest of a verified version as its `ver:` record, then swaps it in as current under `condition`
 * (`commitCurrent`). Not done: another writer's commit broke the condition, and this version was never current.
 */
export async function commitVerifiedVersion(
  deps: Pick<ObjectDeps, "metadata" | "clock" | "config">,
  verified: VerifiedVersion,
  digests: ManifestDigests,
  condition: SwapCondition,
  expected: Manifest | null,
): Promise<{ done: boolean; manifest: Manifest }> {
  const manifest = await sealManifest(deps, {
    key: verified.key,
    version: verified.version,
    size: verified.size,
    sha256: toHex(verified.sha256),
    chunk_size: verified.chunkSize,
    ...digests,
    content_type: verified.contentType ?? DEFAULT_CONTENT_TYPE,
    created_at: new Date(deps.clock()).toISOString(),
    keyid: verified.keyid,
    blob: verified.blob,
    ...(verified.encryption ? { encryption: verified.encryption } : {}),
  });
  await deps.metadata.put(versionKey(verified.version), manifest);
  const committed = await commitCurrent(deps, verified.key, manifest, condition, expected);
  return { done: committed.done, manifest };
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
