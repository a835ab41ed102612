import { Hono, type Context } from "hono";
import { fromHex } from "../../shared/crypto/encoding.ts";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { KeyRegistry } from "../../shared/keys/registry.ts";
import { type ActionClaims, type ActionOp, readActionToken } from "../../shared/lfs/action-token.ts";
import { isLfsObject } from "../../shared/lfs/batch.ts";
import { type LfsCaller, lfsObjectKey, parseRepo } from "../../shared/lfs/repo.ts";
import { lfsTokenCallerById } from "../../shared/lfs/tokens.ts";
import { verifyLfsUpload } from "../../shared/lfs/verify-upload.ts";
import { readCurrent } from "../../shared/objects/manifest.ts";
import { readPinnedVersion } from "../../shared/objects/tombstone.ts";
import { putObject } from "../../shared/objects/upload.ts";
import { claimOrFailClosed, linkClaimId } from "../../shared/replay/claim-id.ts";
import type { AppEnv } from "../context.ts";
import { declaredLength } from "../http/declared-length.ts";
import { LFS_MEDIA_TYPE } from "../http/lfs-errors.ts";
import { serveManifest } from "../http/serve.ts";
import { presignSecret } from "./links.ts";

/**
 * The routes LFS actions point at (PROTOCOL section 8). No Authorization header: the action token in the path is the
 * authority, checked on every use (MAC, op, repository, expiry, and that the LFS token it was issued under still holds).
 */
export const lfsTransfers = new Hono<AppEnv>()
  .on(["GET", "HEAD"], "/:repo/download/:token", async (c) => {
    const { claims } = await authorizeAction(c, "download");
    const manifest = claims.version === undefined ? null : await readPinnedVersion(c.var, lfsObjectKey(claims.repo, claims.oid), claims.version);
    // The pinned version must still be this oid's bytes: the manifest, not the key, says what an object is.
    if (!manifest || !isLfsObject(manifest, claims.oid, claims.size)) throw new VerigateError("not_found", "the pinned version is gone or not this object");
    return serveManifest(c, manifest);
  })
  .put("/:repo/upload/:token", async (c) => {
    const { claims, caller } = await authorizeAction(c, "upload");
    const length = declaredLength(c);
    if (length !== claims.size) throw new VerigateError("bad_request", `Content-Length must be the object's size, ${claims.size}`, SHARE);
    if (claims.nonce === undefined) throw new VerigateError("not_found", "an upload token without a nonce");
    await spendUpload(c, claims);
    const { metadata, config, requestId } = c.var;
    const key = lfsObjectKey(claims.repo, claims.oid);
    if (isLfsObject(await readCurrent(c.var, key), claims.oid, claims.size)) return c.body(null, 200);
    const manifest = await putObject(c.var, {
      key,
      body: c.req.raw.body,
      length,
      expectedSha256: fromHex(claims.oid),
      keyid: caller.owner,
      chunkSize: config.chunkSizeBytes,
      maxObjectBytes: config.maxObjectBytes,
      requestId,
    });
    c.var.log.log("info", "lfs_object_committed", {
      request_id: requestId,
      repo: claims.repo,
      oid: claims.oid,
      version: manifest.version,
      size: manifest.size,
    });
    return c.body(null, 200);
  })
  .post("/:repo/verify/:token", async (c) => {
    const { claims, caller } = await authorizeAction(c, "verify");
    const { config, requestId } = c.var;
    await verifyLfsUpload(c.var, claims, { chunkSize: config.chunkSizeBytes, keyid: caller.owner, requestId });
    return c.body(JSON.stringify({ oid: claims.oid, size: claims.size }), 200, { "Content-Type": LFS_MEDIA_TYPE });
  });

/**
 * The claims of the path's action token for `op`, and who its LFS token speaks for: `not_found` for a token that does
 * not verify or names another repository, `link_expired` past its expiry, `link_revoked` once its LFS token was
 * revoked, expired, or its minting key may no longer reach the repository.
 */
async function authorizeAction(c: Context<AppEnv>, op: ActionOp): Promise<{ claims: ActionClaims; caller: LfsCaller }> {
  const repo = parseRepo(c.req.param("repo"));
  const { config, clock, metadata } = c.var;
  const claims = await readActionToken(c.req.param("token") ?? "", presignSecret(config), op);
  if (claims.repo !== repo) throw new VerigateError("not_found", `an action token of repository ${claims.repo} used under ${repo}`);
  const nowMs = clock();
  if (Math.floor(nowMs / 1000) > claims.exp) throw new VerigateError("link_expired", `expired at ${claims.exp}`);
  const caller = await lfsTokenCallerById(metadata, new KeyRegistry(metadata, config.adminKeys), claims.tid, repo, nowMs);
  if (!caller) throw new VerigateError("link_revoked", `LFS token ${claims.tid} is revoked, expired or no longer covers ${repo}`);
  return { claims, caller };
}

/** An upload href takes one body: its nonce is claimed before any byte is read, as single-use links are. */
async function spendUpload(c: Context<AppEnv>, claims: ActionClaims): Promise<void> {
  const nowSeconds = Math.floor(c.var.clock() / 1000);
  const id = await linkClaimId(`lfs upload\u0000${claims.nonce}`);
  if (!(await claimOrFailClosed(c.var.replay, id, { nowSeconds, expiresAtSeconds: claims.exp }))) throw new VerigateError("link_used");
}
