import { type Config, isPresignStorageWarning, type S3Settings } from "../config/index.ts";
import { VerigateError } from "../errors/index.ts";

/**
 * The S3 settings storage presigned GETs are signed with. They are opt-in: 403 `presign_storage_disabled` unless
 * `PRESIGN_STORAGE=on`, and 503 `misconfigured` while a setting they need is missing, which shared/config found at
 * start and /healthz lists among its warnings. `POST /v1/presign` (mode `storage`) and `POST /v1/plans` both ask here.
 */
export function storageGetSettings(config: Readonly<Config>): S3Settings {
  if (!config.presignStorage) throw new VerigateError("presign_storage_disabled");
  const missing = config.warnings.filter(isPresignStorageWarning);
  // No bucket and no warning: on AWS that is the problem `missing_s3_bucket`, and the guard refused the request already.
  if (missing.length > 0 || !config.s3) throw new VerigateError("misconfigured", `PRESIGN_STORAGE=on: ${missing.join(",") || "missing_s3_bucket"}`);
  return config.s3;
}

/**
 * A presigned GET of the blob at `blobKey`, whose bytes bypass the gateway's verification: the caller hands it out
 * only with what they must hash to. The SDK is loaded only when a storage URL is asked for.
 */
export async function presignBlobGet(settings: S3Settings, blobKey: string, expiresInSeconds: number): Promise<string> {
  const { presignStorageGet } = await import("../storage/s3-presign.ts");
  return presignStorageGet(settings, blobKey, expiresInSeconds);
}
