import { Hono, type MiddlewareHandler } from "hono";
import { sha256Hex } from "../../shared/crypto/encoding.ts";
import { VerigateError } from "../../shared/errors/index.ts";
import { KeyRegistry } from "../../shared/keys/registry.ts";
import type { Manifest } from "../../shared/objects/manifest.ts";
import { readPinnedVersion } from "../../shared/objects/tombstone.ts";
import { readLinkToken } from "../../shared/presign/token.ts";
import { claimOrFailClosed, linkClaimId } from "../../shared/replay/claim-id.ts";
import type { AppEnv } from "../context.ts";
import { serveManifest } from "../http/serve.ts";

/** Enough of a token's SHA-256 to tell links apart in the logs, far too little to rebuild one. */
const LOGGED_TOKEN_HASH_CHARS = 16;

/** The key of gateway links; without it presign and `/v1/dl` answer 503 while the other routes serve. */
export function presignSecret(config: AppEnv["Variables"]["config"]): string {
  if (!config.presignSecret) throw new VerigateError("misconfigured", "PRESIGN_SECRET is not set");
  return config.presignSecret;
}

/**
 * A link token (and an LFS action token) is a bearer secret, so log lines name the request's path with the token,
 * its last segment, replaced by a prefix of its SHA-256 (`/v1/dl/sha256:<16 hex>`), enough to correlate a link's
 * requests and nothing more.
 */
export const redactLinkToken: MiddlewareHandler<AppEnv> = async function redactLinkToken(c, next) {
  const hash = await sha256Hex(c.req.param("token") ?? "");
  const path = c.req.path;
  c.set("logPath", `${path.slice(0, path.lastIndexOf("/") + 1)}sha256:${hash.slice(0, LOGGED_TOKEN_HASH_CHARS)}`);
  return next();
};

/** `GET`/`HEAD /v1/dl/{token}` (no signature: the token's MAC is the authority). */
export const download = new Hono<AppEnv>().on(["GET", "HEAD"], "/:token", async (c) => {
  const { config, clock, metadata } = c.var;
  const claims = await readLinkToken(c.req.param("token"), presignSecret(config));
  const nowSeconds = Math.floor(clock() / 1000);
  if (nowSeconds > claims.exp) throw new VerigateError("link_expired", `expired at ${claims.exp}`);
  const issuer = await new KeyRegistry(metadata, config.adminKeys).findUsable(claims.kid, clock());
  if (!issuer) throw new VerigateError("link_revoked", `issuer ${claims.kid} is revoked, expired or gone`);
  const manifest = await pinnedManifest(c.var, claims.version, claims.key);
  // HEAD does not spend a single-use link: it transfers no bytes.
  if (claims.nonce !== undefined && c.req.method === "GET") await spendLink(c.var, claims.nonce, claims.exp, nowSeconds);
  return serveManifest(c, manifest);
});

async function pinnedManifest(vars: AppEnv["Variables"], version: string, key: string): Promise<Manifest> {
  const manifest = await readPinnedVersion(vars, key, version);
  if (!manifest) throw new VerigateError("not_found", `pinned version ${version} is gone or its key was deleted`);
  return manifest;
}

async function spendLink(vars: AppEnv["Variables"], nonce: string, exp: number, nowSeconds: number): Promise<void> {
  const id = await linkClaimId(nonce);
  if (!(await claimOrFailClosed(vars.replay, id, { nowSeconds, expiresAtSeconds: exp }))) throw new VerigateError("link_used");
}
