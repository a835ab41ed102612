import { parseDictionary, serializeDictionary } from "structured-headers";
import { SHARE, VerigateError } from "../errors/index.ts";

const SHA256_MEMBER = "sha-256";
const SHA256_BYTES = 32;

/** The RFC 9530 `Content-Digest` value of `body`: `sha-256=:<base64>:`. */
export async function contentDigest(body: Uint8Array): Promise<string> {
  return contentDigestOfSha256(new Uint8Array(await crypto.subtle.digest("SHA-256", arrayBufferBacked(body))));
}

/** The same value from a SHA-256 already computed, for a body that is streamed and so hashed as it is read. */
export function contentDigestOfSha256(sha256: Uint8Array): string {
  return serializeDictionary(new Map([[SHA256_MEMBER, [new Uint8Array(sha256).buffer, new Map()]]]));
}

/**
 * The sha-256 digest a client declared, or null when it declared none (only other algorithms).
 * A value that is not a dictionary, or a sha-256 member that is not 32 bytes, is `bad_request`.
 */
export function parseContentDigest(header: string): Uint8Array | null {
  let members;
  try {
    members = parseDictionary(header);
  } catch (error) {
    throw new VerigateError("bad_request", "Content-Digest unparsable", { ...SHARE, cause: error });
  }
  const member = members.get(SHA256_MEMBER);
  if (member === undefined) return null;
  const [value] = member;
  if (!(value instanceof ArrayBuffer) || value.byteLength !== SHA256_BYTES) {
    throw new VerigateError("bad_request", "Content-Digest sha-256 member is not a 32-byte sequence", SHARE);
  }
  return new Uint8Array(value);
}

/** WebCrypto takes only ArrayBuffer-backed views; a body is copied only when it is not one, as it may be large. */
function arrayBufferBacked(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
