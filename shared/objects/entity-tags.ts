import type { Manifest } from "./manifest.ts";

/** An entity tag in a list header; anything else in the header is ignored, so junk never matches. */
const ENTITY_TAG = /(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/g;

/** The entity tags in an `If-Match` or `If-None-Match` list (RFC 9110 section 8.8.3), each with its weakness. */
export function entityTags(header: string): { weak: boolean; opaque: string }[] {
  return [...header.matchAll(ENTITY_TAG)].map((match) => ({ weak: match[1] !== undefined, opaque: match[2] ?? "" }));
}

/**
 * True when `If-Match` allows writing over `current` (strong comparison, RFC 9110 section 13.1.1): a weak tag never
 * matches. The upload evaluates it, since the commit must hold it atomically.
 */
export function ifMatchHolds(ifMatch: string, current: Manifest | null): boolean {
  if (!current) return false;
  if (ifMatch.trim() === "*") return true;
  return entityTags(ifMatch).some((tag) => !tag.weak && tag.opaque === current.sha256);
}
