import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import { parseContentDigest } from "../../shared/signature/index.ts";
import { VerigateIntegrityError } from "./errors.ts";

/** What the client must check the bytes of a read against. */
export interface ExpectedContent {
  /** SHA-256 of the whole object, lowercase hex. */
  sha256: string;
  /** Size of the whole object in bytes. */
  size: number;
}

/** The integrity headers of a GET or HEAD of an object (PROTOCOL section 3). */
export interface ObjectIntegrity extends ExpectedContent {
  /** Bytes in this response: `size` on a 200, the part's length on a 206. */
  contentLength: number;
  etag: string;
  contentType: string | null;
  lastModified: string | null;
  /** On a 206 only. */
  contentRange: string | null;
  /** Where this response's bytes start in the object: 0 on a 200, the first byte of `Content-Range` on a 206. */
  offset: number;
}

const STRONG_SHA256_ETAG = /^"([0-9a-f]{64})"$/;
const CONTENT_RANGE = /^bytes (\d+)-\d+\/(\d+)$/;

/**
 * Reads and cross-checks the integrity headers. A response that cannot be verified (no Repr-Digest, ETag and
 * Repr-Digest naming different bytes, no length) is refused rather than trusted.
 */
export function integrityOf(headers: Headers): ObjectIntegrity {
  const reprDigest = headers.get("repr-digest");
  const etag = headers.get("etag") ?? "";
  const contentLength = Number(headers.get("content-length") ?? Number.NaN);
  if (reprDigest === null) throw new VerigateIntegrityError("unverifiable", "the response has no Repr-Digest to verify it against");
  let digest: Uint8Array | null;
  try {
    digest = parseContentDigest(reprDigest);
  } catch (error) {
    throw new VerigateIntegrityError("unverifiable", `unreadable Repr-Digest: ${reprDigest}`, { cause: error });
  }
  if (digest === null) throw new VerigateIntegrityError("unverifiable", `Repr-Digest has no sha-256: ${reprDigest}`);
  const hex = toHex(digest);
  if (STRONG_SHA256_ETAG.exec(etag)?.[1] !== hex) {
    throw new VerigateIntegrityError("unverifiable", `ETag ${etag} does not name the bytes of Repr-Digest ${hex}`);
  }
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new VerigateIntegrityError("unverifiable", "the response has no Content-Length to verify it against");
  }
  const contentRange = headers.get("content-range");
  const range = contentRange === null ? null : CONTENT_RANGE.exec(contentRange);
  if (contentRange !== null && range === null) throw new VerigateIntegrityError("unverifiable", `unreadable Content-Range: ${contentRange}`);
  const total = range ? Number(range[2]) : contentLength;
  return {
    sha256: hex,
    size: total,
    contentLength,
    etag,
    contentType: headers.get("content-type"),
    lastModified: headers.get("last-modified"),
    contentRange,
    offset: range ? Number(range[1]) : 0,
  };
}

/** Throws `VerigateIntegrityError` unless `bytes` are exactly the expected content. */
export async function verifyBytes(bytes: Uint8Array<ArrayBuffer>, expected: ExpectedContent): Promise<void> {
  if (bytes.length !== expected.size) {
    const reason = bytes.length < expected.size ? "short_response" : "size_mismatch";
    throw new VerigateIntegrityError(reason, `received ${bytes.length} bytes, expected ${expected.size}`);
  }
  const actual = toHex(await sha256(bytes));
  if (actual !== expected.sha256) {
    throw new VerigateIntegrityError("digest_mismatch", `sha256 ${actual} differs from the expected ${expected.sha256}`);
  }
}
