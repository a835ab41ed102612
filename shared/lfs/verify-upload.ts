import { fromHex, timingSafeEqual } from "../crypto/encoding.ts";
import { isVerigateError, SHARE, VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import type { SwapCondition } from "../metadata/index.ts";
import type { ObjectDeps } from "../objects/deps.ts";
import { TREE_FANOUT, treePagesPrefix } from "../objects/digest-tree.ts";
import { deleteTreePages, treeGarbage } from "../objects/garbage.ts";
import { type Manifest, readCurrent } from "../objects/manifest.ts";
import { commitVerifiedVersion, hashChunks, type ManifestDigests } from "../objects/upload.ts";
import { blobKeyFor } from "../objects/version.ts";
import type { ActionClaims } from "./action-token.ts";
import { isLfsObject, verifyDeadlineMs } from "./batch.ts";
import { lfsObjectKey } from "./repo.ts";

export interface VerifyContext {
  chunkSize: number;
  /** The keyid the committed manifest names: the LFS token's minting key. */
  keyid: string;
  requestId: string;
}

/** How often a verify whose commit lost to another writer reads the current manifest again before giving up. */
const COMMIT_ATTEMPTS = 3;

/**
 * The `verify` action (PROTOCOL section 8). Resolves only when the repository's current object at the oid is the
 * claimed one, which answers 200: already so (a gateway upload committed it, or another verify did), or so now
 * because this call read the staged blob of a storage upload (`claims.version`) back from storage, hashed every
 * byte per chunk and whole, and committed its manifest after both matched. Bytes that were never verified are
 * never current, so never served. Throws `not_found` when nothing was uploaded, `digest_mismatch` when what was
 * uploaded is not the object (the staged blob is deleted), `link_expired` past the staged blob's sweep.
 */
export async function verifyLfsUpload(deps: ObjectDeps, claims: ActionClaims, context: VerifyContext): Promise<Manifest> {
  const key = lfsObjectKey(claims.repo, claims.oid);
  const current = await readCurrent({ ...deps, requestId: context.requestId }, key);
  if (current && isLfsObject(current, claims.oid, claims.size)) return current;
  if (claims.version === undefined) {
    if (current?.sha256 === claims.oid) throw new VerigateError("digest_mismatch", "the stored object's size differs", SHARE);
    throw new VerigateError("not_found", "the object was not uploaded", SHARE);
  }
  return verifyStaged(deps, claims, claims.version, current, context);
}

async function verifyStaged(deps: ObjectDeps, claims: ActionClaims, version: string, current: Manifest | null, context: VerifyContext): Promise<Manifest> {
  const blob = blobKeyFor(version);
  const stored = await deps.storage.get(blob);
  if (!stored) throw new VerigateError("not_found", "nothing was uploaded to the storage URL", SHARE);
  const pages = treePagesPrefix(version);
  let digests: ManifestDigests;
  try {
    if (stored.size !== claims.size) throw new VerigateError("digest_mismatch", `storage holds ${stored.size} bytes; ${claims.size} declared`, SHARE);
    const drain = (hashed: ReadableStream<Uint8Array>) => hashed.pipeTo(new WritableStream());
    const hashed = await hashChunks(deps, { body: stored.body, length: claims.size, chunkSize: context.chunkSize }, pages, drain);
    if (!timingSafeEqual(hashed.sha256, fromHex(claims.oid))) throw new VerigateError("digest_mismatch", "the stored bytes do not hash to the oid");
    digests = await hashed.finish();
  } catch (error) {
    await stored.body.cancel().catch(() => {});
    // The size matched, so a read that ends short is storage failing, not other bytes: the upload is kept for a retry.
    if (!isVerigateError(error) || error.code === "bad_request") throw new VerigateError("internal", "reading the staged upload failed", { cause: error });
    if (error.code !== "digest_mismatch") throw error;
    await discardStaged(deps, claims, version, context);
    throw new VerigateError("digest_mismatch", "the uploaded bytes are not the object", SHARE);
  }
  if (deps.clock() > verifyDeadlineMs(claims)) throw new VerigateError("link_expired", "the staged upload may already be swept", SHARE);
  const verified = { key: lfsObjectKey(claims.repo, claims.oid), version, blob, size: claims.size, sha256: fromHex(claims.oid), chunkSize: context.chunkSize };
  let expected = current;
  for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
    const committed = await commitVerifiedVersion(deps, { ...verified, keyid: context.keyid }, digests, replacing(expected), expected);
    if (committed.done) {
      deps.log.log("info", "lfs_object_committed", { request_id: context.requestId, repo: claims.repo, oid: claims.oid, version, size: claims.size });
      return committed.manifest;
    }
    // Another writer came first: a verify of the same upload, or an upload of the same object, is success.
    expected = await readCurrent({ ...deps, requestId: context.requestId }, verified.key);
    if (expected && isLfsObject(expected, claims.oid, claims.size)) return expected;
  }
  throw new VerigateError("internal", `the commit of ${verified.key} lost to other writers ${COMMIT_ATTEMPTS} times`);
}

/** Replaces exactly what was read: no object, or the non-matching one found there (planted, or a stale size). */
function replacing(expected: Manifest | null): SwapCondition {
  return expected ? { kind: "tag", tag: expected.sha256 } : { kind: "absent" };
}

/** Best effort, as for a failed PUT: the staged blob's garbage record sweeps whatever stays. */
async function discardStaged(deps: ObjectDeps, claims: ActionClaims, version: string, context: VerifyContext): Promise<void> {
  try {
    const tree = treeGarbage({ pages: treePagesPrefix(version), fanout: TREE_FANOUT }, Math.ceil(claims.size / context.chunkSize));
    if (tree) await deleteTreePages(deps.storage, tree);
    await deps.storage.delete(blobKeyFor(version));
  } catch (error) {
    deps.log.log("warn", "upload_cleanup_failed", { blob: blobKeyFor(version), request_id: context.requestId, ...describeError(error) });
  }
}
