import { serializeDictionary } from "structured-headers";
import { BODY_COMPONENT, REQUIRED_COMPONENTS, signRequest } from "../../shared/signature/index.ts";
import type { ClientKey } from "./keys.ts";

export interface SignInput {
  method: string;
  url: string;
  key: ClientKey;
  nowSeconds: number;
  /** SHA-256 of the body, when there is one; hashed by the caller so a large body is read once, by streaming. */
  bodySha256?: Uint8Array;
}

/**
 * The headers that sign one request: Signature-Input, Signature, and Content-Digest when there is a body.
 * The URL is signed in the WHATWG-serialised form, the form `fetch` sends, or the gateway would see another
 * `@authority`/`@path` than the one signed. Every call draws a fresh nonce.
 */
export async function signatureHeaders(input: SignInput): Promise<Record<string, string>> {
  const url = new URL(input.url).href;
  const digest = input.bodySha256 === undefined ? undefined : contentDigestOf(input.bodySha256);
  const { headers } = await signRequest({
    method: input.method,
    url,
    key: input.key.signingKey,
    keyid: input.key.keyid,
    created: input.nowSeconds,
    ...(digest === undefined ? {} : { headers: { "content-digest": digest }, components: [...REQUIRED_COMPONENTS, BODY_COMPONENT] }),
  });
  return digest === undefined ? headers : { "Content-Digest": digest, ...headers };
}

/** RFC 9530 `Content-Digest` from an already computed SHA-256. */
export function contentDigestOf(sha256: Uint8Array): string {
  return serializeDictionary(new Map([["sha-256", [arrayBufferOf(sha256), new Map()]]]));
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}
