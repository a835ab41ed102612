import { Hono } from "hono";
import { toBase64Url } from "../../shared/crypto/encoding.ts";
import { VerigateError } from "../../shared/errors/index.ts";
import { validateObjectKey } from "../../shared/objects/key.ts";
import { readCurrent } from "../../shared/objects/manifest.ts";
import { parsePresignRequest } from "../../shared/presign/request.ts";
import { presignBlobGet, storageGetSettings } from "../../shared/presign/storage-get.ts";
import { issueLinkToken } from "../../shared/presign/token.ts";
import type { AppEnv } from "../context.ts";
import { publicOrigin } from "../http/public-origin.ts";
import { authorize } from "../middleware/authorize.ts";
import { jsonBodyLimit, readVerifiedJson } from "../middleware/body.ts";
import { presignSecret } from "./links.ts";

/** 32 random bytes: a single-use link's claim id must be unguessable and never collide. */
const LINK_NONCE_BYTES = 32;

/** `POST /v1/presign` (signed): a gateway link or, when enabled, a storage presigned URL (PROTOCOL section 4). */
export const presign = new Hono<AppEnv>().post("/", jsonBodyLimit, async (c) => {
  const { config, clock } = c.var;
  const request = parsePresignRequest(await readVerifiedJson(c.req.raw), config.presignMaxSeconds);
  validateObjectKey(request.key);
  const principal = authorize(c, "presign", request.key);
  authorize(c, "read", request.key);
  if (request.mode === "gateway") presignSecret(config);

  const manifest = await readCurrent(c.var, request.key);
  if (!manifest) throw new VerigateError("not_found");
  const nowSeconds = Math.floor(clock() / 1000);
  const exp = nowSeconds + request.expiresIn;
  const integrity = { sha256: manifest.sha256, size: manifest.size, chunk_size: manifest.chunk_size };

  let url: string;
  if (request.mode === "storage") {
    url = await presignBlobGet(storageGetSettings(config), manifest.blob, request.expiresIn);
  } else {
    const nonce = request.singleUse ? toBase64Url(crypto.getRandomValues(new Uint8Array(LINK_NONCE_BYTES))) : undefined;
    const token = await issueLinkToken(
      { key: manifest.key, version: manifest.version, exp, kid: principal.keyid, ...(nonce ? { nonce } : {}) },
      presignSecret(config),
    );
    url = `${publicOrigin(c)}/v1/dl/${token}`;
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
