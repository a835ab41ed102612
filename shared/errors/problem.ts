import type { ErrorCode } from "./index.ts";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  request_id: string;
  /** RFC 9457: what to fix, present only where it is safe to say (`VerigateError.publicDetail`). */
  detail?: string;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** The one exhaustive mapping from a failure to its HTTP status and client-facing title. */
export function statusAndTitle(code: ErrorCode): [status: number, title: string] {
  switch (code) {
    case "malformed_signature":
      return [400, "The request signature is malformed"];
    case "invalid_key_name":
      return [400, "The object key is not valid"];
    case "digest_missing":
      return [400, "A request body needs a Content-Digest"];
    case "digest_mismatch":
      return [400, "The body does not match its Content-Digest"];
    case "bad_request":
      return [400, "The request is malformed"];
    case "signature_missing":
      return [401, "This route needs a signed request"];
    case "signature_expired":
      return [401, "The signature has expired"];
    case "signature_not_yet_valid":
      return [401, "The signature is not valid yet"];
    case "signature_invalid":
      return [401, "The signature is not valid"];
    case "replayed_request":
      return [401, "This signed request was already used"];
    case "unauthorized":
      return [401, "LFS credentials are missing or not valid"];
    case "forbidden":
      return [403, "The key has no scope that allows this"];
    case "presign_storage_disabled":
      return [403, "Storage presigned URLs are not enabled"];
    case "not_found":
      return [404, "Not found"];
    case "not_acceptable":
      return [406, "The Accept header names no media type this route sends"];
    case "already_exists":
      return [409, "It already exists"];
    case "upload_incomplete":
      return [409, "The upload session is missing parts"];
    case "upload_closed":
      return [409, "The upload session no longer takes this request"];
    case "unsupported_hash_algo":
      return [409, "Only sha256 object ids are supported"];
    case "lock_exists":
      return [409, "The path is already locked"];
    case "link_expired":
      return [410, "The link has expired"];
    case "link_used":
      return [410, "The link was already used"];
    case "link_revoked":
      return [410, "The link was revoked"];
    case "request_timeout":
      return [408, "The request took too long to arrive"];
    case "length_required":
      return [411, "Content-Length is required"];
    case "precondition_failed":
      return [412, "A precondition failed"];
    case "too_large":
      return [413, "The body is too large"];
    case "range_not_satisfiable":
      return [416, "The range cannot be satisfied"];
    case "headers_too_large":
      return [431, "The request headers are too large"];
    case "rate_limited":
      return [429, "Too many requests"];
    case "internal":
      return [500, "Internal error"];
    case "integrity_failure":
      return [502, "Stored bytes failed verification"];
    case "replay_store_unavailable":
      return [503, "The replay store is unavailable"];
    case "misconfigured":
      return [503, "The gateway is misconfigured"];
    case "overloaded":
      return [503, "The gateway is overloaded"];
  }
}

export function problemBody(code: ErrorCode, requestId: string, detail?: string): ProblemBody {
  const [status, title] = statusAndTitle(code);
  return { type: `urn:verigate:error:${code}`, title, status, code, request_id: requestId, ...(detail === undefined ? {} : { detail }) };
}
