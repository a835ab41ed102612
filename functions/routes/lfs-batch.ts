import { Hono, type Context } from "hono";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { planBatch, type StoragePutSigner } from "../../shared/lfs/batch.ts";
import { parseBatchRequest } from "../../shared/lfs/batch-request.ts";
import { presignBlobPut, presignSettings } from "../../shared/presign/storage-get.ts";
import type { AppEnv } from "../context.ts";
import { LFS_MEDIA_TYPE } from "../http/lfs-errors.ts";
import { jsonBodyLimit } from "../middleware/body.ts";
import { lfsBasicAuth, requireLfsCaller, requireLfsWrite } from "../middleware/lfs-auth.ts";
import { presignSecret } from "./links.ts";

/** Media types a batch request may be sent as, and that its answer may be accepted as (beside wildcards). */
const JSON_MEDIA_TYPES = new Set([LFS_MEDIA_TYPE, "application/json"]);
const ACCEPTED_WILDCARDS = new Set(["*/*", "application/*"]);

/** `POST /lfs/{repo}/objects/batch` (git-lfs docs/api/batch.md), behind HTTP Basic with an LFS token. */
export const lfsBatch = new Hono<AppEnv>().post("/:repo/objects/batch", lfsBasicAuth(), jsonBodyLimit, async (c) => {
  if (!acceptsJson(c.req.header("accept"))) throw new VerigateError("not_acceptable", `send Accept: ${LFS_MEDIA_TYPE}`, SHARE);
  if (!JSON_MEDIA_TYPES.has(mediaType(c.req.header("content-type") ?? ""))) {
    throw new VerigateError("bad_request", `Content-Type must be ${LFS_MEDIA_TYPE}`, SHARE);
  }
  const request = parseBatchRequest(await readJson(c));
  const caller = request.operation === "upload" ? requireLfsWrite(c) : requireLfsCaller(c);
  const { config, clock, metadata } = c.var;
  const answer = await planBatch(metadata, request, {
    caller,
    // As gateway links do: behind a front with an origin of its own, hrefs must name that origin.
    origin: config.publicOrigin ?? new URL(c.req.url).origin,
    secret: presignSecret(config),
    nowMs: clock(),
    gatewayUploadBytes: config.maxObjectBytes,
    chunkSize: config.chunkSizeBytes,
    signStoragePut: storagePutSigner(config),
  });
  c.var.log.log("info", "lfs_batch", {
    request_id: c.var.requestId,
    repo: caller.repo,
    operation: request.operation,
    objects: answer.objects.length,
    errors: answer.objects.filter((object) => object.error).length,
    token_id: caller.tokenId,
  });
  return c.body(JSON.stringify(answer), 200, { "Content-Type": LFS_MEDIA_TYPE });
});

/**
 * Storage PUTs for uploads above one request, where the operator turned storage presign on. The settings are looked up
 * when an object needs one, so a misconfigured presign fails those batches (503) and leaves small uploads alone.
 */
function storagePutSigner(config: AppEnv["Variables"]["config"]): StoragePutSigner | undefined {
  if (!config.presignStorage) return undefined;
  return (blobKey, sha256, length, expiresInSeconds) =>
    presignBlobPut(presignSettings(config, true, "PRESIGN_STORAGE=on"), blobKey, sha256, length, expiresInSeconds);
}

function mediaType(header: string): string {
  return (header.split(";")[0] ?? "").trim().toLowerCase();
}

/** No Accept header accepts anything; otherwise one of its media ranges must name JSON or a wildcard over it. */
function acceptsJson(header: string | undefined): boolean {
  if (header === undefined || header.trim() === "") return true;
  return header.split(",").some((range) => {
    const type = mediaType(range);
    return JSON_MEDIA_TYPES.has(type) || ACCEPTED_WILDCARDS.has(type);
  });
}

async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text().catch((error: unknown) => {
    throw new VerigateError("bad_request", "the body ended before its Content-Length", { ...SHARE, cause: error });
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new VerigateError("bad_request", "the body is not JSON", SHARE);
  }
}
