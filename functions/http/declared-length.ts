import type { Context } from "hono";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import type { AppEnv } from "../context.ts";

/** Declared body length of a PUT: required, a plain decimal (RFC 9110 section 8.6). */
export function declaredLength(c: Context<AppEnv>): number {
  const header = c.req.header("content-length");
  if (header === undefined) throw new VerigateError("length_required");
  if (!/^\d{1,16}$/.test(header.trim())) throw new VerigateError("bad_request", "Content-Length must be a decimal number of bytes", SHARE);
  return Number(header.trim());
}
