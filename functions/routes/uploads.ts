import { Hono, type Context } from "hono";
import { LAMBDA_MAX_PUT_BYTES } from "../../shared/config/aws.ts";
import { fromHex } from "../../shared/crypto/encoding.ts";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { abortUpload } from "../../shared/uploads/abort.ts";
import { ownSession } from "../../shared/uploads/access.ts";
import { completeUpload } from "../../shared/uploads/complete.ts";
import { createUpload } from "../../shared/uploads/create.ts";
import { directPartsAvailable, directPartSettings } from "../../shared/uploads/direct-parts.ts";
import { partLength, parsePartNumber } from "../../shared/uploads/layout.ts";
import { registerPart, requireOpen, uploadPart } from "../../shared/uploads/parts.ts";
import { verifiedBytes } from "../../shared/uploads/progress.ts";
import { parseCreateUploadRequest, parsePartDigest, parsePartEtag } from "../../shared/uploads/request.ts";
import type { UploadSession } from "../../shared/uploads/store.ts";
import { createUploadBody, partBody, uploadStatusBody } from "../../shared/uploads/wire.ts";
import type { AppEnv } from "../context.ts";
import { declaredLength } from "../http/declared-length.ts";
import { authorize, requirePrincipal } from "../middleware/authorize.ts";
import { jsonBodyLimit, readVerifiedJson, signedDigest } from "../middleware/body.ts";

/** The session named in the path, owned by the caller (else 404), whose key the caller may still write. */
async function ownedSession(c: Context<AppEnv>): Promise<UploadSession> {
  const session = await ownSession(c.var.uploads, c.req.param("id") ?? "", requirePrincipal(c).keyid, c.var.clock());
  authorize(c, "write", session.key);
  return session;
}

/** `/v1/uploads`: upload sessions, for objects larger than one PUT (PROTOCOL "Upload sessions"). */
export const uploads = new Hono<AppEnv>()
  .post("/", jsonBodyLimit, async (c) => {
    const request = parseCreateUploadRequest(await readVerifiedJson(c.req.raw));
    const principal = authorize(c, "write", request.key);
    const ifNoneMatch = c.req.header("if-none-match");
    if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*") throw new VerigateError("bad_request", "an upload takes only If-None-Match: *", SHARE);
    const { config } = c.var;
    const session = await createUpload(
      c.var,
      { ...request, keyid: principal.keyid, ifNoneMatch: ifNoneMatch !== undefined, ifMatch: c.req.header("if-match") },
      {
        chunkSize: config.chunkSizeBytes,
        uploadPartBytes: config.uploadPartBytes,
        maxUploadSessionBytes: config.maxUploadSessionBytes,
        uploadSessionSeconds: config.uploadSessionSeconds,
      },
    );
    c.var.log.log("info", "upload_created", {
      request_id: c.var.requestId,
      upload_id: session.id,
      key: session.key,
      size: session.size,
      keyid: principal.keyid,
    });
    c.header("Location", `/v1/uploads/${session.id}`);
    return c.json(createUploadBody(session, directPartsAvailable(config)), 201);
  })
  .get("/:id", async (c) => {
    const session = await ownedSession(c);
    const parts = await c.var.uploads.listParts(session.id);
    return c.json(uploadStatusBody(session, parts, verifiedBytes(session), directPartsAvailable(c.var.config)));
  })
  .put("/:id/parts/:part", async (c) => {
    const session = await ownedSession(c);
    const part = parsePartNumber(c.req.param("part"), session);
    const length = declaredLength(c);
    // A Function URL refuses the request before the function runs anyway; answering here names the way round it.
    if (c.var.config.runtime === "lambda" && length > LAMBDA_MAX_PUT_BYTES) {
      throw new VerigateError(
        "too_large",
        `${length} bytes declared; a part through this gateway is at most ${LAMBDA_MAX_PUT_BYTES}: send parts to storage`,
        SHARE,
      );
    }
    const stored = await uploadPart(c.var, session, part, { body: c.req.raw.body, length, sha256: signedDigest(c.req.raw) });
    c.var.log.log("info", "upload_part_stored", { request_id: c.var.requestId, upload_id: session.id, part, size: stored.size });
    return c.json(partBody(stored));
  })
  .post("/:id/parts/:part/presign", jsonBodyLimit, async (c) => {
    const body = await readVerifiedJson(c.req.raw);
    const session = await ownedSession(c);
    const part = parsePartNumber(c.req.param("part"), session);
    requireOpen(session);
    const sha256 = parsePartDigest(body);
    const { config, clock } = c.var;
    const settings = directPartSettings(config);
    const sessionSecondsLeft = Math.floor((Date.parse(session.expires_at) - clock()) / 1000);
    const expiresInSeconds = Math.max(1, Math.min(config.presignMaxSeconds, sessionSecondsLeft));
    const { presignStorageUploadPart } = await import("../../shared/storage/s3-presign.ts");
    const length = partLength(session, part);
    const { url, headers } = await presignStorageUploadPart(settings, session.blob, session.storage_upload_id, part, fromHex(sha256), length, expiresInSeconds);
    const expiresAt = new Date(Math.floor(clock() / 1000) * 1000 + expiresInSeconds * 1000).toISOString();
    return c.json({ url, method: "PUT", headers, expires_at: expiresAt });
  })
  .post("/:id/parts/:part", jsonBodyLimit, async (c) => {
    const body = await readVerifiedJson(c.req.raw);
    const session = await ownedSession(c);
    const part = parsePartNumber(c.req.param("part"), session);
    directPartSettings(c.var.config);
    const recorded = await registerPart(c.var, session, part, { sha256: parsePartDigest(body), etag: parsePartEtag(body) });
    c.var.log.log("info", "upload_part_registered", { request_id: c.var.requestId, upload_id: session.id, part });
    return c.json(partBody(recorded));
  })
  .post("/:id/complete", jsonBodyLimit, async (c) => {
    await readVerifiedJson(c.req.raw);
    const session = await ownedSession(c);
    const outcome = await completeUpload(c.var, session, { sliceBytes: c.var.config.completeSliceBytes, requestId: c.var.requestId });
    if (!outcome.done) {
      c.header("Retry-After", String(outcome.retryAfterSeconds));
      return c.json(outcome.body, 202);
    }
    c.var.log.log("info", "upload_completed", { request_id: c.var.requestId, upload_id: session.id, key: session.key, version: outcome.body.version });
    return c.json(outcome.body, 201);
  })
  .delete("/:id", async (c) => {
    const session = await ownedSession(c);
    await abortUpload(c.var, session);
    c.var.log.log("info", "upload_aborted", { request_id: c.var.requestId, upload_id: session.id, key: session.key });
    return c.body(null, 204);
  });
