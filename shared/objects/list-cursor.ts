import { fromBase64UrlJson, toBase64UrlJson } from "../crypto/encoding.ts";
import { SHARE, VerigateError } from "../errors/index.ts";

/**
 * The cursor a client sees: base64url JSON `{"p": prefix, "c": store cursor}`. Binding the prefix makes every
 * build refuse the same cursors (a malformed one, or one from another listing) with `bad_request`, whatever its
 * store would make of them: KV answers an empty page to a cursor it cannot read. The store's own cursor inside
 * stays opaque; a store that refuses it is mapped to `bad_request` by the caller.
 */
export function encodeListCursor(prefix: string, storeCursor: string): string {
  return toBase64UrlJson({ p: prefix, c: storeCursor });
}

/** The store cursor inside `cursor`, if `cursor` continues the listing of `prefix`; throws `bad_request`. */
export function decodeListCursor(cursor: string, prefix: string): string {
  let parsed: unknown;
  try {
    parsed = fromBase64UrlJson(cursor);
  } catch (error) {
    throw new VerigateError("bad_request", "the cursor is not one this listing returned", { ...SHARE, cause: error });
  }
  const { p, c } = (typeof parsed === "object" && parsed !== null ? parsed : {}) as { p?: unknown; c?: unknown };
  if (typeof c !== "string" || c === "") throw new VerigateError("bad_request", "the cursor is not one this listing returned", SHARE);
  if (p !== prefix) throw new VerigateError("bad_request", "the cursor belongs to the listing of another prefix", SHARE);
  return c;
}
