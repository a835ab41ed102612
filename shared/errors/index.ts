/**
 * Every failure the gateway can report, as one tagged union of wire codes (PROTOCOL section 2).
 * Code inside `shared/` throws `VerigateError` with one of these; `problem.ts` is the only place that
 * turns a code into a status and a title, so the mapping can be audited in one screen. The list is a value so
 * that documents naming every code (the OpenAPI Problem schema) can be checked against it.
 */
export const ERROR_CODES = [
  "malformed_signature",
  "invalid_key_name",
  "digest_missing",
  "digest_mismatch",
  "bad_request",
  "signature_missing",
  "signature_expired",
  "signature_not_yet_valid",
  "signature_invalid",
  "replayed_request",
  "forbidden",
  "presign_storage_disabled",
  "not_found",
  "already_exists",
  "link_expired",
  "link_used",
  "link_revoked",
  "length_required",
  "request_timeout",
  "precondition_failed",
  "too_large",
  "range_not_satisfiable",
  "headers_too_large",
  "rate_limited",
  "internal",
  "integrity_failure",
  "replay_store_unavailable",
  "misconfigured",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * A failure with a wire code. `detail` is for the log only and never reaches a client:
 * it may name keys, storage errors or configuration.
 */
export class VerigateError extends Error {
  override readonly name = "VerigateError";
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${code}: ${detail}` : code, options);
    this.code = code;
    this.detail = detail;
  }
}

export function isVerigateError(error: unknown): error is VerigateError {
  return error instanceof VerigateError;
}
