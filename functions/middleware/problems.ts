import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorCode, isVerigateError } from "../../shared/errors/index.ts";
import { PROBLEM_CONTENT_TYPE, problemBody } from "../../shared/errors/problem.ts";
import { describeError } from "../../shared/log.ts";
import type { AppEnv } from "../context.ts";
import { isLfsPath, lfsProblem } from "../http/lfs-errors.ts";

/** A problem+json response (RFC 9457): the code, title and request id, and a `detail` only where it is safe. */
export function problem(c: Context<AppEnv>, code: ErrorCode, detail?: string): Response {
  // Git LFS routes answer in git-lfs's format, also when a check before them (rate limit, budget, guard) refused.
  if (isLfsPath(c.req.path)) return lfsProblem(c, code, detail);
  const body = problemBody(code, c.var.requestId ?? "", detail);
  return c.body(JSON.stringify(body), body.status as ContentfulStatusCode, { "Content-Type": PROBLEM_CONTENT_TYPE });
}

/**
 * The one place a thrown failure becomes a response. The detail and stack go to the log under the request
 * id; the client sees the wire code, plus the detail where the thrower marked it safe, and anything
 * unexpected becomes 500 `internal`.
 */
export const onProblem: ErrorHandler<AppEnv> = (error, c) => {
  const code: ErrorCode = isVerigateError(error) ? error.code : "internal";
  const response = problem(c, code, isVerigateError(error) ? error.publicDetail : undefined);
  const serverSide = response.status >= 500;
  // A client error is expected traffic: its code and detail suffice, a stack would only bury the 5xx lines.
  const cause = serverSide || !isVerigateError(error) ? describeError(error) : { detail: error.detail };
  const fields = { request_id: c.var.requestId, code, method: c.req.method, path: c.var.logPath ?? c.req.path, ...cause };
  const logger = c.var.log;
  const level = serverSide ? "error" : "warn";
  if (logger) logger.log(level, "request_failed", fields);
  else console.error(JSON.stringify({ level, event: "request_failed", ...fields }));
  return response;
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) => problem(c, "not_found");
