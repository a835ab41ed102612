import type { Context } from "hono";
import { SHARE, VerigateError, isVerigateError } from "../shared/errors/index.ts";
import { openVerified } from "../shared/objects/download.ts";
import { ifRangeHolds, isNotModified, notModifiedHeaders, objectHeaders, rangeNotSatisfiableHeaders } from "../shared/objects/headers.ts";
import type { Manifest } from "../shared/objects/manifest.ts";
import { parseRange } from "../shared/objects/range.ts";
import type { ByteRange } from "../shared/storage/index.ts";
import type { AppEnv } from "./context.ts";

/**
 * Answers GET or HEAD for one manifest: 304, 206, 416 or 200, every body byte verified against the manifest
 * before it is written. Object routes and download links both serve through here, so they cannot drift apart.
 */
export async function serveManifest(c: Context<AppEnv>, manifest: Manifest): Promise<Response> {
  if (isNotModified(c.req.header("if-none-match"), manifest)) {
    return new Response(null, { status: 304, headers: notModifiedHeaders(manifest) });
  }
  const range = ifRangeHolds(c.req.header("if-range"), manifest) ? requestedRange(c, manifest.size) : null;
  if (c.req.method === "HEAD") {
    return new Response(null, { status: range ? 206 : 200, headers: objectHeaders(manifest, range) });
  }
  const { status, headers, body } = await openVerified(c.var, manifest, { range, requestId: c.var.requestId });
  return new Response(body, { status, headers });
}

function requestedRange(c: Context<AppEnv>, size: number): ByteRange | null {
  try {
    return parseRange(c.req.header("range"), size);
  } catch (error) {
    if (isVerigateError(error) && error.code === "range_not_satisfiable") {
      for (const [name, value] of Object.entries(rangeNotSatisfiableHeaders(size))) c.header(name, value);
    }
    throw error;
  }
}

/** Declared body length of a PUT: required, a plain decimal (RFC 9110 section 8.6). */
export function declaredLength(c: Context<AppEnv>): number {
  const header = c.req.header("content-length");
  if (header === undefined) throw new VerigateError("length_required");
  if (!/^\d{1,16}$/.test(header.trim())) throw new VerigateError("bad_request", "Content-Length must be a decimal number of bytes", SHARE);
  return Number(header.trim());
}
