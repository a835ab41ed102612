import type { ConfigProblem, ConfigWarning } from "./problems.ts";
import type { Settings } from "./variables.ts";

/**
 * The settings only some routes need that are missing, found at start so /healthz lists them before any request
 * fails. A setting already reported as a problem is not repeated: the gateway then serves nothing anyway.
 */
export function warningsOf(settings: Settings, problems: readonly ConfigProblem[]): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  // A secret that is too short is already a problem, not a missing one.
  if (settings.presignSecret === undefined && !problems.includes("presign_secret_too_short")) warnings.push("presign_secret_missing");
  if (settings.presignStorage) {
    const { s3 } = settings;
    if (!s3) {
      if (!problems.includes("missing_s3_bucket")) warnings.push("presign_storage_s3_bucket_missing");
    } else if (settings.runtime === "workers" && (!s3.endpoint || !s3.accessKeyId || !s3.secretAccessKey)) {
      // Workers have no role to fall back on, so they need R2's S3 endpoint and explicit keys; Lambda may use its execution role.
      warnings.push("presign_storage_s3_credentials_missing");
    }
  }
  if (settings.encryption.ring !== null && settings.encryption.readUnsignedLegacy) warnings.push("unsigned_manifests_readable");
  return warnings;
}
