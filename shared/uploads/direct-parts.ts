import { type Config, isPresignStorageWarning, type S3Settings } from "../config/index.ts";
import { presignSettings } from "../presign/storage-get.ts";

/**
 * Whether parts may go straight to storage through presigned UploadPart URLs. Unlike a storage presigned GET, a
 * direct part bypasses no check (complete reads every assembled byte back), so on AWS, where the function's role
 * signs for its own bucket, it is always on: the Lambda build cannot take parts itself (6 MB payloads). On Workers
 * it needs R2's S3 endpoint and keys, which the operator gives with `PRESIGN_STORAGE=on`.
 */
export function directPartsAvailable(config: Readonly<Config>): boolean {
  // Under encryption the gateway must seal every chunk itself: presignSettings refuses direct parts then.
  if (config.encryption.ring) return false;
  return config.s3 !== undefined && (config.runtime !== "workers" || config.presignStorage) && !config.warnings.some(isPresignStorageWarning);
}

/** The S3 settings direct parts are signed with: 403 `presign_storage_disabled` where off, 503 `misconfigured` while a setting is missing. */
export function directPartSettings(config: Readonly<Config>): S3Settings {
  return presignSettings(config, config.runtime !== "workers" || config.presignStorage, "direct parts");
}
