import { type InnerList, type Item, serializeDictionary, serializeInnerList } from "structured-headers";
import { toBase64Url, utf8 } from "../crypto/encoding.ts";
import { buildSignatureBase } from "./base.ts";
import { BODY_COMPONENT, DEFAULT_SIGNATURE_LABEL, REQUIRED_COMPONENTS, SIGNER_NONCE_BYTES } from "./constants.ts";
import { contentDigest, contentDigestOfSha256 } from "./content-digest.ts";
import { messageFromRequest } from "./message.ts";
import { hmacSha256 } from "./verify.ts";

export type SigningKey = { alg: "ed25519"; privateKey: CryptoKey } | { alg: "hmac-sha256"; secret: Uint8Array };

export type SignRequestInput = SignRequestCommon & SignedBody;

/**
 * The body the signature covers through `Content-Digest`: its bytes, or its SHA-256 when the caller streams it
 * and has hashed it once as it read it (a large upload is then never held whole). Both sign the same headers.
 */
type SignedBody = { body?: Uint8Array; bodySha256?: never } | { body?: never; bodySha256: Uint8Array };

interface SignRequestCommon {
  method: string;
  /**
   * Absolute URL exactly as it will be sent: `@path` and `@query` are sliced from this string as the gateway
   * slices its request target. `fetch` sends the WHATWG form, so pass `new URL(url).href` when unsure.
   */
  url: string;
  headers?: Record<string, string>;
  key: SigningKey;
  keyid: string;
  /** Epoch seconds; now by default. */
  created?: number;
  expires?: number;
  /** A fresh random nonce by default; set only to replay on purpose in tests. */
  nonce?: string;
  /** Sends the `alg` parameter, which the gateway then checks against the key record. */
  alg?: boolean;
  /** Replaces the covered components; for tests of the profile. */
  components?: string[];
  label?: string;
}

/** Signs a request per Verigate's profile and returns the headers to add to it. */
export async function signRequest(input: SignRequestInput): Promise<{ headers: Record<string, string> }> {
  const digest = await digestOf(input);
  const headers = new Headers(input.headers);
  if (digest !== undefined) headers.set("content-digest", digest);

  const components = input.components ?? [...REQUIRED_COMPONENTS, ...(digest === undefined ? [] : [BODY_COMPONENT])];
  const params = new Map<string, number | string>([["created", input.created ?? Math.floor(Date.now() / 1000)]]);
  if (input.expires !== undefined) params.set("expires", input.expires);
  params.set("nonce", input.nonce ?? toBase64Url(crypto.getRandomValues(new Uint8Array(SIGNER_NONCE_BYTES))));
  params.set("keyid", input.keyid);
  if (input.alg === true) params.set("alg", input.key.alg);
  const innerList: InnerList = [components.map((name): Item => [name, new Map()]), params];

  const message = messageFromRequest({ method: input.method, url: input.url, headers });
  const base = buildSignatureBase(message, components, serializeInnerList(innerList));
  const signature = await sign(utf8(base), input.key);

  const label = input.label ?? DEFAULT_SIGNATURE_LABEL;
  return {
    headers: {
      ...(digest === undefined ? {} : { "Content-Digest": digest }),
      "Signature-Input": serializeDictionary(new Map([[label, innerList]])),
      Signature: serializeDictionary(new Map<string, Item>([[label, [signature, new Map()]]])),
    },
  };
}

async function digestOf(input: SignedBody): Promise<string | undefined> {
  if (input.bodySha256 !== undefined) return contentDigestOfSha256(input.bodySha256);
  return input.body === undefined ? undefined : contentDigest(input.body);
}

async function sign(base: Uint8Array<ArrayBuffer>, key: SigningKey): Promise<Uint8Array<ArrayBuffer>> {
  if (key.alg === "hmac-sha256") return hmacSha256(key.secret, base);
  return new Uint8Array(await crypto.subtle.sign("Ed25519", key.privateKey, base));
}
