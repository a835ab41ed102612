import { Hono } from "hono";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { planBody, planManifest, planWindow, windowDigests } from "../../shared/objects/plan.ts";
import { parsePlanRequest } from "../../shared/presign/plan-request.ts";
import { presignBlobGet, storageGetSettings } from "../../shared/presign/storage-get.ts";
import type { AppEnv } from "../context.ts";
import { rangeNotSatisfiableHeaders } from "../http/object-headers.ts";
import { authorize } from "../middleware/authorize.ts";
import { jsonBodyLimit, readVerifiedJson } from "../middleware/body.ts";

/**
 * `POST /v1/plans` (signed; presign and read): a direct download plan (PROTOCOL section 4). The client fetches the
 * window's bytes from storage itself through `url` and checks each chunk against `chunks`, which the gateway read
 * and checked: nothing a client verifies against comes from storage. Storage presign must be enabled, as for
 * `mode: "storage"`, since the URL bypasses the gateway's own verification.
 */
export const plans = new Hono<AppEnv>().post("/", jsonBodyLimit, async (c) => {
  const { config, clock } = c.var;
  const request = parsePlanRequest(await readVerifiedJson(c.req.raw), config.presignMaxSeconds);
  const principal = authorize(c, "presign", request.key);
  authorize(c, "read", request.key);
  const settings = storageGetSettings(config);

  const manifest = await planManifest(c.var, request.key, request.version);
  if (!manifest) throw new VerigateError("not_found");
  const window = planWindow(manifest, request.offset, request.length);
  if (!window) {
    for (const [name, value] of Object.entries(rangeNotSatisfiableHeaders(manifest.size))) c.header(name, value);
    throw new VerigateError("range_not_satisfiable", `offset ${request.offset} is at or past the end of the object (${manifest.size} bytes)`, SHARE);
  }
  const chunks = await windowDigests(c.var, manifest, window, c.var.requestId);
  const exp = Math.floor(clock() / 1000) + request.expiresIn;
  const url = await presignBlobGet(settings, manifest.blob, request.expiresIn);
  c.var.log.log("info", "presigned", {
    request_id: c.var.requestId,
    key: manifest.key,
    version: manifest.version,
    mode: "direct",
    first_chunk: window.firstChunk,
    chunk_count: chunks.length,
    next_offset: window.nextOffset,
    expires_at: exp,
    keyid: principal.keyid,
  });
  return c.json(planBody(manifest, window, chunks, url, new Date(exp * 1000).toISOString()));
});
