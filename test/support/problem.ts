import { expect } from "vitest";

/** A problem+json answer (PROTOCOL section 2), as a suite compares it. */
export interface Problem {
  status: number;
  code: string;
}

/** A response as read off a raw connection (`connect`, `wireGet`): null when no status line arrived. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * Reads `response` as the gateway's own error: problem+json whose `status` is the response's and whose
 * `request_id` is its X-Request-Id. Anything else (a runtime's bare error page, say) fails here.
 */
export async function problemOf(response: Response): Promise<Problem> {
  const { status, code } = checkedProblem(response.status, response.headers.get("content-type"), response.headers.get("x-request-id"), await response.text());
  return { status, code };
}

/** `problemOf` with the problem's RFC 9457 `detail`, for the tests of what an error may tell a client. */
export async function problemDetailOf(response: Response): Promise<Problem & { detail: unknown }> {
  return checkedProblem(response.status, response.headers.get("content-type"), response.headers.get("x-request-id"), await response.text());
}

/** The same reading of a response taken off a raw connection, which may have no status at all. */
export function wireProblemOf(response: RawAnswer | null): Problem {
  expect(response, "a status line").not.toBeNull();
  const { status, headers, body } = response!;
  const problem = checkedProblem(status, headers["content-type"] ?? null, headers["x-request-id"] ?? null, new TextDecoder().decode(body));
  return { status: problem.status, code: problem.code };
}

function checkedProblem(status: number, contentType: string | null, requestId: string | null, text: string): Problem & { detail: unknown } {
  expect(contentType).toBe("application/problem+json");
  const body = JSON.parse(text) as { status: unknown; code: unknown; request_id: unknown; detail?: unknown };
  expect(body.status).toBe(status);
  expect(body.request_id).toBe(requestId);
  return { status, code: String(body.code), detail: body.detail };
}
