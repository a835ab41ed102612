import type { ErrorCode } from "../../shared/errors/index.ts";
import { PROBLEM_CONTENT_TYPE } from "../../shared/errors/problem.ts";

/** A wire code of PROTOCOL section 2, or `http_<status>` when the answer carried no problem body (a proxy page). */
export type ApiErrorCode = ErrorCode | `http_${number}`;

/**
 * HEAD answers carry no body, so their code is inferred from the status, only where object reads give
 * that status a single meaning in PROTOCOL section 2.
 */
const CODE_OF_BODILESS_STATUS: ReadonlyMap<number, ErrorCode> = new Map([
  [404, "not_found"],
  [412, "precondition_failed"],
  [416, "range_not_satisfiable"],
  [502, "integrity_failure"],
]);

/** The gateway refused a request: `code` is the problem+json code, `requestId` finds the gateway's log line. */
export class VerigateApiError extends Error {
  override readonly name = "VerigateApiError";
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly requestId: string | null;
  /** The gateway's RFC 9457 `detail`: what to fix, where the gateway can say it safely. */
  readonly detail: string | undefined;

  constructor(status: number, code: ApiErrorCode, requestId: string | null, title: string, detail?: string) {
    super(`${code} (${status}): ${title}${detail ? `: ${detail}` : ""}${requestId ? ` [request id ${requestId}]` : ""}`);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.detail = detail;
  }
}

export type IntegrityFailure = "digest_mismatch" | "size_mismatch" | "short_response" | "unverifiable";

/** Bytes received could not be shown to be the object the gateway (or the presign integrity block) vouched for. */
export class VerigateIntegrityError extends Error {
  override readonly name = "VerigateIntegrityError";
  readonly reason: IntegrityFailure;

  constructor(reason: IntegrityFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** The call was refused on the client before anything was sent: a bad argument, key file or object key. */
export class VerigateUsageError extends Error {
  override readonly name = "VerigateUsageError";
}

/** Reads the problem+json body of a failed response; never throws, since the failure is the news. */
export async function apiErrorFrom(response: Response): Promise<VerigateApiError> {
  const requestId = response.headers.get("x-request-id");
  const fallback = CODE_OF_BODILESS_STATUS.get(response.status) ?? (`http_${response.status}` as const);
  const title = response.statusText || "unexpected response";
  if (!response.headers.get("content-type")?.startsWith(PROBLEM_CONTENT_TYPE)) {
    await response.body?.cancel().catch(() => {});
    return new VerigateApiError(response.status, fallback, requestId, title);
  }
  const problem = parseProblem(await response.text().catch(() => ""));
  return new VerigateApiError(
    response.status,
    typeof problem.code === "string" ? (problem.code as ErrorCode) : fallback,
    typeof problem.request_id === "string" ? problem.request_id : requestId,
    typeof problem.title === "string" ? problem.title : title,
    typeof problem.detail === "string" ? problem.detail : undefined,
  );
}

/** The problem object, or an empty one for a HEAD answer (no body) or a body that is not JSON. */
function parseProblem(text: string): { code?: unknown; title?: unknown; request_id?: unknown; detail?: unknown } {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : {};
  } catch {
    return {};
  }
}
