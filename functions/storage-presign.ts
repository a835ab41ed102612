import type { Config } from "../shared/config/index.ts";
import { VerigateError } from "../shared/errors/index.ts";
import type { Manifest } from "../shared/objects/manifest.ts";

/**
 * Storage presigned URLs are opt-in: 403 `presign_storage_disabled` unless `PRESIGN_STORAGE=on`, and 503
 * `misconfigured` when the S3 settings it needs are missing. Workers have no role to fall back on, so they
 * need explicit keys; Lambda may use its execution role. The SDK is loaded only when the mode is used.
 */
export async function storagePresign(config: Readonly<Config>, manifest: Manifest, expiresInSeconds: number): Promise<string> {
  if (!config.presignStorage) throw new VerigateError("presign_storage_disabled");
  const s3 = config.s3;
  if (!s3) throw new VerigateError("misconfigured", "PRESIGN_STORAGE=on without S3_BUCKET");
  if (config.runtime === "workers" && (!s3.endpoint || !s3.accessKeyId || !s3.secretAccessKey)) {
    throw new VerigateError("misconfigured", "PRESIGN_STORAGE=on on Workers needs S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY");
  }
  const { presignStorageGet } = await import("../shared/storage/s3-presign.ts");
  return presignStorageGet(s3, manifest.blob, Math.min(expiresInSeconds, config.presignMaxSeconds));
}
