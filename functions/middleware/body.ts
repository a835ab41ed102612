import { bodyLimit } from "hono/body-limit";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { timingSafeEqual, sha256 } from "../../shared/crypto/encoding.ts";
import { parseContentDigest } from "../../shared/signature/index.ts";
import { KIB } from "../../shared/bytes.ts";

/** A JSON body larger than this is not a key or presign request; refusing early bounds memory. */
export const MAX_JSON_BODY_BYTES = 64 * KIB;

/** Methods whose requests carry a body by definition here, so their signature must cover content-digest. */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * Whether the request carries a body its signature must cover: a body method, or framing headers that
 * announce one (RFC 9112 section 6.3). The headers decide before the stream does, because runtimes differ
 * there: Node hands a GET no body stream even when it came with one, while `wrangler dev` hands a bodiless
 * DELETE `content-length: 0` and an empty, non-null stream, which is no body at all.
 */
export function hasBody(request: Request): boolean {
  if (BODY_METHODS.has(request.method) || request.headers.has("transfer-encoding")) return true;
  const length = request.headers.get("content-length");
  return length === null ? request.body !== null : length.trim() !== "0";
}

/**
 * The signed Content-Digest as bytes. The header is covered by the signature, so these bytes are what the
 * signer committed to; the body itself still has to be hashed and compared.
 */
export function signedDigest(request: Request): Uint8Array {
  const header = request.headers.get("content-digest");
  if (header === null) throw new VerigateError("digest_missing");
  const digest = parseContentDigest(header);
  if (digest === null) throw new VerigateError("digest_missing", "no sha-256 member in Content-Digest");
  return digest;
}

/** Refuses a JSON body above the limit, by its declared length before reading or while it streams. */
export const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY_BYTES,
  onError: () => {
    throw new VerigateError("too_large", `a JSON body may hold at most ${MAX_JSON_BODY_BYTES} bytes`, SHARE);
  },
});

/** Reads a small JSON body (behind `jsonBodyLimit`), checks it against the signed digest, then parses it. */
export async function readVerifiedJson(request: Request): Promise<Record<string, unknown>> {
  const expected = signedDigest(request);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(await request.arrayBuffer());
  } catch (error) {
    // A body that ends before its Content-Length (a cut connection): framing, as for a PUT, not an internal error.
    throw new VerigateError("bad_request", "the body ended before its Content-Length", { ...SHARE, cause: error });
  }
  if (!timingSafeEqual(await sha256(bytes), expected)) throw new VerigateError("digest_mismatch");
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new VerigateError("bad_request", "the body is not JSON", SHARE);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new VerigateError("bad_request", "the body must be a JSON object", SHARE);
  return value as Record<string, unknown>;
}
