import { fromHex, toBase64 } from "../../shared/crypto/encoding.ts";
import { entityTags } from "../../shared/objects/entity-tags.ts";
import { etagOf, type Manifest } from "../../shared/objects/manifest.ts";
import type { ByteRange } from "../../shared/storage/index.ts";

/** The status and headers of a GET or HEAD answered from a manifest: 200 for the whole object, 206 for a range. */
export interface ObjectResponseHead {
  status: 200 | 206;
  headers: Record<string, string>;
}

/**
 * The status and headers of a GET or HEAD of `manifest`, or of the 206 part `range` of it. Repr-Digest is the
 * digest of the whole representation (RFC 9530), so it is the same on a 206 and lets the client check a resumed
 * download once it has every part.
 */
export function objectResponseHead(manifest: Manifest, range?: ByteRange | null): ObjectResponseHead {
  const headers: Record<string, string> = {
    "Content-Length": String(range ? range.length : manifest.size),
    "Content-Type": manifest.content_type,
    ETag: etagOf(manifest),
    "Repr-Digest": `sha-256=:${toBase64(fromHex(manifest.sha256))}:`,
    "Accept-Ranges": "bytes",
    "Last-Modified": new Date(manifest.created_at).toUTCString(),
  };
  if (range) headers["Content-Range"] = `bytes ${range.offset}-${range.offset + range.length - 1}/${manifest.size}`;
  return { status: range ? 206 : 200, headers };
}

/** A 304 carries the validators a cache needs to refresh its copy, and no representation headers (RFC 9110 section 15.4.5). */
export function notModifiedHeaders(manifest: Manifest): Record<string, string> {
  return { ETag: etagOf(manifest), "Last-Modified": new Date(manifest.created_at).toUTCString() };
}

/** A 416 names the current length so the client can ask again (RFC 9110 section 15.5.17). */
export function rangeNotSatisfiableHeaders(size: number): Record<string, string> {
  return { "Content-Range": `bytes */${size}` };
}

/** True when `If-None-Match` matches the stored version, so a GET or HEAD answers 304 (weak comparison, RFC 9110 section 13.1.2). */
export function isNotModified(ifNoneMatch: string | null | undefined, manifest: Manifest): boolean {
  if (ifNoneMatch === null || ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return entityTags(ifNoneMatch).some((tag) => tag.opaque === manifest.sha256);
}

/**
 * True when a Range request may be served as a range: no `If-Range`, or one naming the stored version's
 * entity tag. A date is treated as not matching, which only costs a full response (RFC 9110 section 13.1.5).
 */
export function ifRangeHolds(ifRange: string | null | undefined, manifest: Manifest): boolean {
  if (ifRange === null || ifRange === undefined) return true;
  return ifRange.trim() === etagOf(manifest);
}
