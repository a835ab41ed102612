import { expect } from "vitest";
import type { WireResponse } from "./wire.ts";

/** A problem+json answer (PROTOCOL section 2), as a suite compares it. */
export interface Problem {
  status: number;
  code: string;
}

/**
 * Reads `response` as the gateway's own error: problem+json whose `status` is the response's and whose
 * `request_id` is its X-Request-Id. Anything else (a runtime's bare error page, say) fails here.
 */
export async function problemOf(response: Response): Promise<Problem> {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as { status: unknown; code: unknown; request_id: unknown };
  expect(body.status).toBe(response.status);
  expect(body.request_id).toBe(response.headers.get("x-request-id"));
  return { status: response.status, code: String(body.code) };
}

/** The same reading of a response taken off a raw connection (`connect`, `wireGet`), which may have no status at all. */
export function wireProblemOf(response: WireResponse | null): Problem {
  expect(response, "a status line").not.toBeNull();
  expect(response!.headers["content-type"]).toBe("application/problem+json");
  const body = JSON.parse(Buffer.from(response!.body).toString("utf8")) as { status: unknown; code: unknown; request_id: unknown };
  expect(body.status).toBe(response!.status);
  expect(body.request_id).toBe(response!.headers["x-request-id"]);
  return { status: response!.status, code: String(body.code) };
}
