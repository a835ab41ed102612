import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../../shared/errors/index.ts";
import { problemBody } from "../../shared/errors/problem.ts";
import type { AppEnv } from "../context.ts";
import { publicOrigin } from "./public-origin.ts";

/** The media type of every git-lfs request and answer (git-lfs docs/api/batch.md). */
export const LFS_MEDIA_TYPE = "application/vnd.git-lfs+json";
/** What a 401 asks for: git-lfs reads `LFS-Authenticate` (not `WWW-Authenticate`, which would make browsers prompt). */
export const LFS_AUTHENTICATE = 'Basic realm="Verigate LFS"';
/**
 * Where a user who reads an LFS error in git's output finds what it means: the gateway's own OpenAPI document, which
 * lists every LFS route's codes, so the URL is always one this deployment serves.
 */
function documentationUrl(c: Context<AppEnv>): string {
  return `${publicOrigin(c)}/openapi.json`;
}

/** Where answers take git-lfs's error format: the LFS routes' path prefix, however the request failed. */
export function isLfsPath(path: string): boolean {
  return path.startsWith("/lfs/");
}

/**
 * A failure on an LFS route, in one body both readers understand: git-lfs's `message`, `request_id` and
 * `documentation_url`, beside the problem+json members (type, title, status, code, detail) of PROTOCOL section 2.
 * Headers already set on `c` (Retry-After of a 429 or 503) stay. `extra` members are added where git-lfs reads more
 * (the existing `lock` of a 409 on a lock create).
 */
export function lfsProblem(c: Context<AppEnv>, code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}): Response {
  const body = problemBody(code, c.var.requestId ?? "", detail);
  if (body.status === 401) c.header("LFS-Authenticate", LFS_AUTHENTICATE);
  const lfsBody = { ...body, message: body.detail ?? body.title, documentation_url: documentationUrl(c), ...extra };
  return c.body(JSON.stringify(lfsBody), body.status as ContentfulStatusCode, { "Content-Type": LFS_MEDIA_TYPE });
}
