import type { Context } from "hono";
import { isVerigateError } from "../../shared/errors/index.ts";
import { openVerified } from "../../shared/objects/download.ts";
import type { Manifest } from "../../shared/objects/manifest.ts";
import type { ByteRange } from "../../shared/storage/index.ts";
import type { AppEnv } from "../context.ts";
import { ifRangeHolds, isNotModified, notModifiedHeaders, objectResponseHead, rangeNotSatisfiableHeaders } from "./object-headers.ts";
import { parseRange } from "./range.ts";

/**
 * Answers GET or HEAD for one manifest: 304, 206, 416 or 200, every body byte verified against the manifest
 * before it is written. Object routes and download links both serve through here, so they cannot drift apart.
 * The object core hands back only the verified bytes of a span; status and headers are decided here.
 */
export async function serveManifest(c: Context<AppEnv>, manifest: Manifest): Promise<Response> {
  if (isNotModified(c.req.header("if-none-match"), manifest)) {
    return new Response(null, { status: 304, headers: notModifiedHeaders(manifest) });
  }
  const range = ifRangeHolds(c.req.header("if-range"), manifest) ? requestedRange(c, manifest.size) : null;
  const { status, headers } = objectResponseHead(manifest, range);
  if (c.req.method === "HEAD") return new Response(null, { status, headers });
  const body = await openVerified(c.var, manifest, { span: range, requestId: c.var.requestId });
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
