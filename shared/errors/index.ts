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
  "unauthorized",
  "signature_expired",
  "signature_not_yet_valid",
  "signature_invalid",
  "replayed_request",
  "forbidden",
  "presign_storage_disabled",
  "not_found",
  "not_acceptable",
  "already_exists",
  "upload_incomplete",
  "upload_closed",
  "unsupported_hash_algo",
  "lock_exists",
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
  "overloaded",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface VerigateErrorOptions {
  cause?: unknown;
  /**
   * The detail is safe to show the client (RFC 9457 `detail`): it says what to fix in terms of the client's
   * own request (a field and its allowed range, the declared size and the limit, the action and key asked
   * for), never storage, SDK or configuration text. Off by default: a detail stays in the log.
   */
  shareDetail?: boolean;
}

/**
 * A failure with a wire code. `detail` goes to the log, and to the client only when `shareDetail` says it
 * is safe: a detail may otherwise name keys, storage errors or configuration.
 */
export class VerigateError extends Error {
  override readonly name = "VerigateError";
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  /** The detail the client may see, or undefined. */
  readonly publicDetail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: VerigateErrorOptions) {
    super(detail ? `${code}: ${detail}` : code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = detail;
    this.publicDetail = options?.shareDetail ? detail : undefined;
  }
}

/** Shorthand for the options of a failure whose detail the client may see. */
export const SHARE: VerigateErrorOptions = Object.freeze({ shareDetail: true });

export function isVerigateError(error: unknown): error is VerigateError {
  return error instanceof VerigateError;
}
