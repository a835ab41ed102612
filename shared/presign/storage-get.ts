import { type Config, isPresignStorageWarning, type S3Settings } from "../config/index.ts";
import { SHARE, VerigateError } from "../errors/index.ts";

/** The shared detail of every storage presign refused because the deployment encrypts at rest. */
export const ENCRYPTED_AT_REST = "objects are encrypted at rest";

/**
 * The S3 settings a presigned storage URL is signed with, where `enabled`: 403 `presign_storage_disabled` where not,
 * and 503 `misconfigured` (the detail starting with `purpose`) while a setting it needs is missing, which shared/config
 * found at start and /healthz lists among its warnings. With ENCRYPTION_KEYS set it is always 403, with a detail saying
 * why: the store holds only ciphertext, and a client sending bytes straight to it would store them unencrypted
 * (docs/ENCRYPTION.md "Presign"); the gateway's own links and routes serve and take the same objects.
 */
export function presignSettings(config: Readonly<Config>, enabled: boolean, purpose: string): S3Settings {
  if (config.encryption.ring) throw new VerigateError("presign_storage_disabled", ENCRYPTED_AT_REST, SHARE);
  if (!enabled) throw new VerigateError("presign_storage_disabled");
  const missing = config.warnings.filter(isPresignStorageWarning);
  // No bucket and no warning: on AWS that is the problem `missing_s3_bucket`, and the guard refused the request already.
  if (missing.length > 0 || !config.s3) throw new VerigateError("misconfigured", `${purpose}: ${missing.join(",") || "missing_s3_bucket"}`);
  return config.s3;
}

/**
 * The S3 settings storage presigned GETs are signed with. They are opt-in (`PRESIGN_STORAGE=on`): `POST /v1/presign`
 * (mode `storage`) and `POST /v1/plans` both ask here.
 */
export function storageGetSettings(config: Readonly<Config>): S3Settings {
  return presignSettings(config, config.presignStorage, "PRESIGN_STORAGE=on");
}

/**
 * A presigned GET of the blob at `blobKey`, whose bytes bypass the gateway's verification: the caller hands it out
 * only with what they must hash to. The SDK is loaded only when a storage URL is asked for.
 */
export async function presignBlobGet(settings: S3Settings, blobKey: string, expiresInSeconds: number): Promise<string> {
  const { presignStorageGet } = await import("../storage/s3-presign.ts");
  return presignStorageGet(settings, blobKey, expiresInSeconds);
}

/**
 * A presigned PutObject of the blob at `blobKey`, bound to its SHA-256 and length by signed headers (`headers`, to send
 * as given). The bytes it stores are untrusted until the gateway read them back and hashed them (an LFS verify).
 */
export async function presignBlobPut(
  settings: S3Settings,
  blobKey: string,
  sha256: Uint8Array,
  length: number,
  expiresInSeconds: number,
): Promise<{ url: string; headers: Record<string, string> }> {
  const { presignStoragePut } = await import("../storage/s3-presign.ts");
  return presignStoragePut(settings, blobKey, sha256, length, expiresInSeconds);
}
