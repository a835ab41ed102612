import { Hono } from "hono";
import { planBatch, type StoragePutSigner } from "../../shared/lfs/batch.ts";
import { parseBatchRequest } from "../../shared/lfs/batch-request.ts";
import { presignBlobPut, presignSettings } from "../../shared/presign/storage-get.ts";
import type { AppEnv } from "../context.ts";
import { lfsJson, readLfsJson, requireLfsAccept } from "../http/lfs-request.ts";
import { publicOrigin } from "../http/public-origin.ts";
import { jsonBodyLimit } from "../middleware/body.ts";
import { lfsBasicAuth, requireLfsCaller, requireLfsWrite } from "../middleware/lfs-auth.ts";
import { presignSecret } from "./links.ts";

/** `POST /lfs/{repo}/objects/batch` (git-lfs docs/api/batch.md), behind HTTP Basic with an LFS token. */
export const lfsBatch = new Hono<AppEnv>().post("/:repo/objects/batch", lfsBasicAuth(), jsonBodyLimit, async (c) => {
  requireLfsAccept(c);
  const request = parseBatchRequest(await readLfsJson(c));
  const caller = request.operation === "upload" ? requireLfsWrite(c) : requireLfsCaller(c);
  const { config, clock, metadata } = c.var;
  const answer = await planBatch(c.var, request, {
    caller,
    origin: publicOrigin(c),
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
  return lfsJson(c, answer);
});

/**
 * Storage PUTs for uploads above one request, where the operator turned storage presign on. The settings are looked up
 * when an object needs one, so a misconfigured presign fails those batches (503) and leaves small uploads alone.
 */
function storagePutSigner(config: AppEnv["Variables"]["config"]): StoragePutSigner | undefined {
  // Under encryption a client must never put bytes straight into the store: it holds only ciphertext.
  if (!config.presignStorage || config.encryption.ring) return undefined;
  return (blobKey, sha256, length, expiresInSeconds) =>
    presignBlobPut(presignSettings(config, true, "PRESIGN_STORAGE=on"), blobKey, sha256, length, expiresInSeconds);
}
