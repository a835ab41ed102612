import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import type { AppEnv } from "../context.ts";
import { LFS_MEDIA_TYPE } from "./lfs-errors.ts";

/** Media types a git-lfs request body may be sent as, and that an answer may be accepted as (beside wildcards). */
const JSON_MEDIA_TYPES = new Set([LFS_MEDIA_TYPE, "application/json"]);
const ACCEPTED_WILDCARDS = new Set(["*/*", "application/*"]);

function mediaType(header: string): string {
  return (header.split(";")[0] ?? "").trim().toLowerCase();
}

/** No Accept header accepts anything; otherwise one of its media ranges must name JSON or a wildcard over it. */
function acceptsJson(header: string | undefined): boolean {
  if (header === undefined || header.trim() === "") return true;
  return header.split(",").some((range) => {
    const type = mediaType(range);
    return JSON_MEDIA_TYPES.has(type) || ACCEPTED_WILDCARDS.has(type);
  });
}

/** 406 `not_acceptable` unless the request accepts a JSON answer (git-lfs sends `Accept: application/vnd.git-lfs+json`). */
export function requireLfsAccept(c: Context<AppEnv>): void {
  if (!acceptsJson(c.req.header("accept"))) throw new VerigateError("not_acceptable", `send Accept: ${LFS_MEDIA_TYPE}`, SHARE);
}

/**
 * The JSON body of a git-lfs request (behind `jsonBodyLimit`), labelled with a JSON media type (charset tolerated):
 * a browser can send a cross-site form post with cached Basic credentials, but not with a JSON media type without a
 * CORS preflight, which the gateway does not answer.
 */
export async function readLfsJson(c: Context<AppEnv>): Promise<unknown> {
  if (!JSON_MEDIA_TYPES.has(mediaType(c.req.header("content-type") ?? ""))) {
    throw new VerigateError("bad_request", `Content-Type must be ${LFS_MEDIA_TYPE}`, SHARE);
  }
  const text = await c.req.text().catch((error: unknown) => {
    throw new VerigateError("bad_request", "the body ended before its Content-Length", { ...SHARE, cause: error });
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new VerigateError("bad_request", "the body is not JSON", SHARE);
  }
}

/** A git-lfs answer: JSON under the git-lfs media type. */
export function lfsJson(c: Context<AppEnv>, value: unknown, status: ContentfulStatusCode = 200): Response {
  return c.body(JSON.stringify(value), status, { "Content-Type": LFS_MEDIA_TYPE });
}
