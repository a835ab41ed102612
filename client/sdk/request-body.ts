import { fromHex, SHA256_HEX, sha256, utf8 } from "../../shared/crypto/encoding.ts";
import { VerigateUsageError } from "./errors.ts";

/**
 * A streamed body needs its SHA-256 and size up front (the signature covers the digest, the gateway needs
 * Content-Length); the other forms are hashed here with WebCrypto.
 */
export type ObjectBody = Uint8Array<ArrayBuffer> | ArrayBuffer | Blob | string | ReadableStream<Uint8Array>;

/** A body ready to send: what `fetch` takes, and the SHA-256 and size the signature and Content-Length need. */
export interface OutgoingBody {
  data: BodyInit;
  sha256: Uint8Array;
  size: number;
}

const JSON_TYPE = "application/json";

/** Hashes bytes, strings and Blobs with WebCrypto; a stream must come with its SHA-256 (hex) and size. */
export async function outgoingBody(body: ObjectBody, options: { sha256?: string; size?: number }): Promise<OutgoingBody> {
  const declared = options.sha256 === undefined ? undefined : declaredSha256(options.sha256);
  if (body instanceof ReadableStream) {
    if (declared === undefined || options.size === undefined) throw new VerigateUsageError("a streamed body needs sha256 and size");
    return { data: body, sha256: declared, size: options.size };
  }
  if (body instanceof Blob) {
    return { data: body, sha256: declared ?? (await sha256(new Uint8Array(await body.arrayBuffer()))), size: body.size };
  }
  const bytes = typeof body === "string" ? utf8(body) : body instanceof ArrayBuffer ? new Uint8Array(body) : body;
  return { data: bytes, sha256: declared ?? (await sha256(bytes)), size: bytes.length };
}

function declaredSha256(hex: string): Uint8Array {
  if (!SHA256_HEX.test(hex)) throw new VerigateUsageError("sha256 must be 64 lowercase hex digits");
  return fromHex(hex);
}

/** A JSON request body with its Content-Type, hashed for its Content-Digest. */
export async function jsonBody(value: unknown): Promise<{ headers: Record<string, string>; body: OutgoingBody }> {
  const bytes = utf8(JSON.stringify(value));
  return { headers: { "Content-Type": JSON_TYPE }, body: { data: bytes, sha256: await sha256(bytes), size: bytes.length } };
}

/** A bare SHA-256 hex (as `put` prints it) becomes the quoted entity tag `If-Match` compares. */
export function quotedEtag(value: string): string {
  return SHA256_HEX.test(value) ? `"${value}"` : value;
}
