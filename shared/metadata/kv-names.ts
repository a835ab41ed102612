import { fromBase64, sha256Hex, toBase64Url, utf8 } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import { MAX_METADATA_KEY_BYTES } from "./index.ts";

/**
 * How metadata keys become Workers KV key names. KV refuses names above 512 bytes of UTF-8 (locally and in
 * production), while an object's `obj:` key reaches 516. A key that fits is its own name. A longer one is
 * named by its first bytes, cut at a character boundary, then a backslash (which no metadata key contains)
 * and the SHA-256 of the whole key, so the name stays unique and still sorts and lists under the key's
 * leading bytes; the bytes after the head travel in the name's KV metadata, which `list` returns, so a
 * listing gives back the key itself.
 *
 * The price: among keys that share their first HEAD_BYTES bytes, a shortened one lists by its digest, not
 * by the rest of its bytes.
 */

/** KV's key name limit. */
export const KV_MAX_NAME_BYTES = 512;
const SEPARATOR = "\\";
const DIGEST_HEX_CHARS = 64;
/** What is left of a name for the key's own bytes. */
const HEAD_BYTES = KV_MAX_NAME_BYTES - SEPARATOR.length - DIGEST_HEX_CHARS;

/** The KV metadata of a shortened name: the base64url of the key's bytes after its head (escaping-proof under KV's 1,024-byte metadata cap). */
export interface NameMetadata {
  rest: string;
}

export interface KvName {
  name: string;
  /** Present only for a shortened name. */
  metadata?: NameMetadata;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The KV name a metadata key is stored under; throws `internal` for a key outside the port's rules. */
export async function kvNameOf(key: string): Promise<KvName> {
  const bytes = utf8(key);
  if (key.includes(SEPARATOR) || bytes.length > MAX_METADATA_KEY_BYTES) {
    throw new VerigateError("internal", `metadata key holds a backslash or exceeds ${MAX_METADATA_KEY_BYTES} bytes`);
  }
  if (bytes.length <= KV_MAX_NAME_BYTES) return { name: key };
  const head = headBytes(bytes);
  return {
    name: decoder.decode(head) + SEPARATOR + (await sha256Hex(bytes)),
    metadata: { rest: toBase64Url(bytes.subarray(head.length)) },
  };
}

/** The metadata key a listed KV name stands for. */
export function keyOfListed(entry: { name: string; metadata?: unknown }): string {
  const rest = (entry.metadata as Partial<NameMetadata> | null | undefined)?.rest;
  if (typeof rest !== "string") return entry.name;
  return entry.name.slice(0, -(SEPARATOR.length + DIGEST_HEX_CHARS)) + decoder.decode(fromBase64(rest));
}

/**
 * The KV prefix that lists every name of a key under `prefix`: the prefix itself when it fits inside a head,
 * else its own head (a shortened key's name starts with the same head). In the second case the listing also
 * holds keys that merely share the head, so the caller filters by `prefix`. Null when no key can match.
 */
export function kvPrefixOf(prefix: string): { kvPrefix: string; exact: boolean } | null {
  const bytes = utf8(prefix);
  if (prefix.includes(SEPARATOR) || bytes.length > MAX_METADATA_KEY_BYTES) return null;
  if (bytes.length <= HEAD_BYTES) return { kvPrefix: prefix, exact: true };
  return { kvPrefix: decoder.decode(headBytes(bytes)), exact: false };
}

/** The longest start of `bytes` of at most HEAD_BYTES that ends on a character boundary. */
function headBytes(bytes: Uint8Array): Uint8Array {
  let end = Math.min(HEAD_BYTES, bytes.length);
  // A UTF-8 continuation byte (10xxxxxx) would cut a character in two.
  while (end < bytes.length && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
