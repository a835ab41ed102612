import { Hono, type MiddlewareHandler } from "hono";
import { sha256Hex, toBase64Url } from "../shared/crypto/encoding.ts";
import { VerigateError } from "../shared/errors/index.ts";
import { KeyRegistry } from "../shared/keys/registry.ts";
import { validateObjectKey } from "../shared/objects/key.ts";
import { type Manifest, readCurrent } from "../shared/objects/manifest.ts";
import { readPinnedVersion } from "../shared/objects/tombstone.ts";
import { parsePresignRequest } from "../shared/presign/request.ts";
import { issueLinkToken, readLinkToken } from "../shared/presign/token.ts";
import { claimOrFailClosed, linkClaimId } from "../shared/replay/claim-id.ts";
import type { AppEnv } from "./context.ts";
import { authorize } from "./middleware/authorize.ts";
import { jsonBodyLimit, readVerifiedJson } from "./middleware/body.ts";
import { serveManifest } from "./http/serve.ts";
import { storagePresign } from "./storage-presign.ts";

/** 32 random bytes: a single-use link's claim id must be unguessable and never collide. */
const LINK_NONCE_BYTES = 32;
/** Enough of a token's SHA-256 to tell links apart in the logs, far too little to rebuild one. */
const LOGGED_TOKEN_HASH_CHARS = 16;

function presignSecret(config: AppEnv["Variables"]["config"]): string {
  if (!config.presignSecret) throw new VerigateError("misconfigured", "PRESIGN_SECRET is not set");
  return config.presignSecret;
}

/** `POST /v1/presign` (signed): a gateway link or, when enabled, a storage presigned URL (PROTOCOL section 4). */
export const presign = new Hono<AppEnv>().post("/", jsonBodyLimit, async (c) => {
  const { config, clock } = c.var;
  const request = parsePresignRequest(await readVerifiedJson(c.req.raw), config.presignMaxSeconds);
  validateObjectKey(request.key);
  const principal = authorize(c, "presign", request.key);
  authorize(c, "read", request.key);
  if (request.mode === "gateway") presignSecret(config);

  const manifest = await readCurrent(c.var.metadata, request.key);
  if (!manifest) throw new VerigateError("not_found");
  const nowSeconds = Math.floor(clock() / 1000);
  const exp = nowSeconds + request.expiresIn;
  const integrity = { sha256: manifest.sha256, size: manifest.size, chunk_size: manifest.chunk_size };

  let url: string;
  if (request.mode === "storage") {
    url = await storagePresign(config, manifest, request.expiresIn);
  } else {
    const nonce = request.singleUse ? toBase64Url(crypto.getRandomValues(new Uint8Array(LINK_NONCE_BYTES))) : undefined;
    const token = await issueLinkToken(
      { key: manifest.key, version: manifest.version, exp, kid: principal.keyid, ...(nonce ? { nonce } : {}) },
      presignSecret(config),
    );
    url = `${config.publicOrigin ?? new URL(c.req.url).origin}/v1/dl/${token}`;
  }
  c.var.log.log("info", "presigned", {
    request_id: c.var.requestId,
    key: manifest.key,
    version: manifest.version,
    mode: request.mode,
    single_use: request.singleUse,
    expires_at: exp,
    keyid: principal.keyid,
  });
  return c.json({ url, method: "GET", mode: request.mode, expires_at: new Date(exp * 1000).toISOString(), integrity });
});

/**
 * A link token is a bearer secret, so log lines name the request's path with the token replaced by a prefix
 * of its SHA-256 (`/v1/dl/sha256:<16 hex>`), enough to correlate a link's requests and nothing more.
 */
export const redactLinkToken: MiddlewareHandler<AppEnv> = async function redactLinkToken(c, next) {
  const hash = await sha256Hex(c.req.param("token") ?? "");
  c.set("logPath", `/v1/dl/sha256:${hash.slice(0, LOGGED_TOKEN_HASH_CHARS)}`);
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
  const manifest = await pinnedManifest(metadata, claims.version, claims.key);
  // HEAD does not spend a single-use link: it transfers no bytes.
  if (claims.nonce !== undefined && c.req.method === "GET") await spendLink(c.var, claims.nonce, claims.exp, nowSeconds);
  return serveManifest(c, manifest);
});

async function pinnedManifest(metadata: AppEnv["Variables"]["metadata"], version: string, key: string): Promise<Manifest> {
  const manifest = await readPinnedVersion(metadata, key, version);
  if (!manifest) throw new VerigateError("not_found", `pinned version ${version} is gone or its key was deleted`);
  return manifest;
}

async function spendLink(vars: AppEnv["Variables"], nonce: string, exp: number, nowSeconds: number): Promise<void> {
  const id = await linkClaimId(nonce);
  if (!(await claimOrFailClosed(vars.replay, id, { nowSeconds, expiresAtSeconds: exp }))) throw new VerigateError("link_used");
}
