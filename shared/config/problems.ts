/**
 * Every code the configuration can report, in one list each (PROTOCOL section 6). Codes name variables and
 * bindings, never their values, since /healthz shows them without authentication.
 */

/** Problems make the gateway refuse every route but /healthz and /openapi.json (503 `misconfigured`). */
export const CONFIG_PROBLEMS = [
  "invalid_auth_mode",
  "invalid_replay_store",
  "invalid_presign_storage",
  "invalid_clock_skew_seconds",
  "invalid_max_signature_age_seconds",
  "invalid_max_object_bytes",
  "invalid_chunk_size_bytes",
  "invalid_max_in_flight_bytes",
  "invalid_presign_max_seconds",
  "invalid_max_upload_session_bytes",
  "invalid_upload_part_bytes",
  "invalid_upload_session_seconds",
  "invalid_complete_slice_bytes",
  "presign_secret_too_short",
  "invalid_admin_keys",
  "invalid_public_origin",
  "invalid_unsigned_manifests",
  "encryption_keys_empty",
  "encryption_keys_entry_malformed",
  "encryption_keys_key_id_invalid",
  "encryption_keys_key_id_duplicate",
  "encryption_keys_key_not_base64",
  "encryption_keys_key_length",
  "s3_bucket_example_name",
  "dynamodb_table_example_name",
  "missing_binding_objects",
  "missing_binding_meta",
  "missing_binding_replay",
  "missing_binding_commits",
  "missing_binding_uploads",
  "missing_binding_lfs_locks",
  "missing_s3_bucket",
  "missing_dynamodb_table",
  "replay_store_unsupported_on_workers",
  "replay_store_unsupported_on_lambda",
  "replay_store_unsupported_on_node",
] as const;

export type ConfigProblem = (typeof CONFIG_PROBLEMS)[number];

/**
 * Settings only some routes need: those routes answer 503 `misconfigured` while the rest serve and status stays ok;
 * and lowered guards the operator chose, shown until they are raised again.
 */
export const CONFIG_WARNINGS = [
  // Presign and /v1/dl.
  "presign_secret_missing",
  // Storage presign (`PRESIGN_STORAGE=on`): it signs for the S3 bucket, and on Workers, which have no role to
  // fall back on, with explicit keys for R2's S3 API.
  "presign_storage_s3_bucket_missing",
  "presign_storage_s3_credentials_missing",
  // Not a missing setting but a lowered guard: UNSIGNED_MANIFESTS=read while ENCRYPTION_KEYS is set serves
  // manifests no key signed (each read logged), until a rewrap pass has signed them and the flag is removed.
  "unsigned_manifests_readable",
] as const;

export type ConfigWarning = (typeof CONFIG_WARNINGS)[number];

const PRESIGN_STORAGE_WARNINGS: readonly ConfigWarning[] = ["presign_storage_s3_bucket_missing", "presign_storage_s3_credentials_missing"];

/** True for the warnings that keep storage presign from serving. */
export function isPresignStorageWarning(warning: ConfigWarning): boolean {
  return PRESIGN_STORAGE_WARNINGS.includes(warning);
}
