import { SHA256_HEX } from "../crypto/encoding.ts";
import { SHARE, VerigateError } from "../errors/index.ts";
import { validateObjectKey } from "../objects/key.ts";

/** A declared SHA-256: 64 lowercase hex digits, the form manifests and ETags use. */
/** As long as a Content-Type header the gateway would store from a PUT; longer is no media type. */
const MAX_CONTENT_TYPE_CHARS = 256;

export interface CreateUploadRequest {
  key: string;
  size: number;
  sha256: string;
  contentType: string | undefined;
}

/** Validates the JSON body of `POST /v1/uploads`; `bad_request` (or `invalid_key_name`) for anything outside the contract. */
export function parseCreateUploadRequest(body: Record<string, unknown>): CreateUploadRequest {
  const { key, size, sha256, content_type: contentType } = body;
  if (typeof key !== "string") throw new VerigateError("bad_request", "key must be a string", SHARE);
  validateObjectKey(key);
  if (!Number.isSafeInteger(size) || (size as number) < 1) throw new VerigateError("bad_request", "size must be a whole number of bytes, at least 1", SHARE);
  if (typeof contentType !== "undefined" && (typeof contentType !== "string" || contentType.length > MAX_CONTENT_TYPE_CHARS)) {
    throw new VerigateError("bad_request", `content_type must be a string of at most ${MAX_CONTENT_TYPE_CHARS} characters`, SHARE);
  }
  return { key, size: size as number, sha256: parseSha256Hex(sha256, "sha256"), contentType: contentType || undefined };
}

/** The `sha256` of a part request (presign, register); `bad_request` unless 64 lowercase hex digits. */
export function parsePartDigest(body: Record<string, unknown>): string {
  return parseSha256Hex(body.sha256, "sha256");
}

/** The `etag` a direct part's storage PUT answered: a short printable string, quotes included as storage sent them. */
export function parsePartEtag(body: Record<string, unknown>): string {
  const { etag } = body;
  if (typeof etag !== "string" || !/^[\x21-\x7e]{1,256}$/.test(etag))
    throw new VerigateError("bad_request", "etag must be the ETag header storage answered", SHARE);
  return etag;
}

function parseSha256Hex(value: unknown, field: string): string {
  if (typeof value !== "string" || !SHA256_HEX.test(value)) throw new VerigateError("bad_request", `${field} must be 64 lowercase hex digits`, SHARE);
  return value;
}
