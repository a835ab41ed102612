import { SHARE, VerigateError } from "../errors/index.ts";

/** PROTOCOL section 3: an object key is 1 to 512 bytes of UTF-8. */
export const MAX_OBJECT_KEY_BYTES = 512;

/** C0 controls, DEL, C1 controls, backslash, and lone UTF-16 surrogates (which have no UTF-8 form). */
const FORBIDDEN_CHARACTER = /[\u0000-\u001f\u007f-\u009f\\]|\p{Cs}/u;

/**
 * The object key named by the raw request path after `/v1/objects/`, percent-decoded exactly once, so
 * `%252e` is the literal text `%2e` while `%2e%2e` is `..` and refused. Throws `invalid_key_name`.
 */
export function parseObjectKey(rawPathAfterPrefix: string): string {
  let key: string;
  try {
    key = decodeURIComponent(rawPathAfterPrefix);
  } catch (error) {
    throw new VerigateError("invalid_key_name", "the key's percent-encoding is malformed", { ...SHARE, cause: error });
  }
  return validateObjectKey(key);
}

/** Checks an already-decoded key (for example one named in a JSON body); throws `invalid_key_name`. */
export function validateObjectKey(key: string): string {
  const bytes = new TextEncoder().encode(key).length;
  if (bytes < 1 || bytes > MAX_OBJECT_KEY_BYTES)
    throw new VerigateError("invalid_key_name", `a key is 1 to ${MAX_OBJECT_KEY_BYTES} bytes of UTF-8; this one is ${bytes}`, SHARE);
  if (FORBIDDEN_CHARACTER.test(key)) throw new VerigateError("invalid_key_name", "a key holds no control character, backslash or lone surrogate", SHARE);
  for (const segment of key.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new VerigateError("invalid_key_name", `segment ${JSON.stringify(segment)}: no segment of a key may be empty, . or ..`, SHARE);
    }
  }
  return key;
}
