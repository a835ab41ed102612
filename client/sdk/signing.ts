import { signRequest } from "../../shared/signature/index.ts";
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
  const { headers } = await signRequest({
    method: input.method,
    url: new URL(input.url).href,
    key: input.key.signingKey,
    keyid: input.key.keyid,
    created: input.nowSeconds,
    ...(input.bodySha256 === undefined ? {} : { bodySha256: input.bodySha256 }),
  });
  return headers;
}
