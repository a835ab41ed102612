import { type InnerList, parseDictionary, serializeInnerList } from "structured-headers";
import { toBase64, toBase64Url, utf8 } from "../../../shared/crypto/encoding.ts";
import {
  BODY_COMPONENT,
  REQUIRED_COMPONENTS,
  SIGNER_NONCE_BYTES,
  type SigningKey,
  buildSignatureBase,
  messageFromRequest,
} from "../../../shared/signature/index.ts";
import { hmacSha256 } from "../../../shared/signature/verify.ts";
import type { FuzzRequest } from "./fuzz.ts";

/**
 * A signer for fuzzing: `Signature-Input` is text the suite wrote (so it can be anything, not just what
 * `signRequest` would produce), and the signature is made over that text exactly as the gateway will read it.
 * A fuzzed header therefore reaches the checks behind signature verification instead of stopping at it.
 */

/** The parts of a `Signature-Input` member, each already in its header form, so a part can be any text. */
export interface SignatureInputParts {
  label: string;
  /** Each covered component as it appears in the inner list: `"@method"`, `"x";sf`, ... */
  components: string[];
  /** Parameters in order, each as `[name, value text]`: `["created", "1763800000"]`, `["nonce", "\"q3V...\""]`. */
  params: [string, string][];
}

export function freshNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(SIGNER_NONCE_BYTES)));
}

/** The parts `signRequest` would send: the profile's components (`content-digest` with a body), created, nonce, keyid. */
export function profileParts(keyid: string, options: { withBody: boolean; created: number; nonce?: string }): SignatureInputParts {
  const names = options.withBody ? [...REQUIRED_COMPONENTS, BODY_COMPONENT] : REQUIRED_COMPONENTS;
  return {
    label: "sig1",
    components: names.map((name) => JSON.stringify(name)),
    params: [
      ["created", String(options.created)],
      ["nonce", JSON.stringify(options.nonce ?? freshNonce())],
      ["keyid", JSON.stringify(keyid)],
    ],
  };
}

export function renderSignatureInput(parts: SignatureInputParts): string {
  return `${parts.label}=(${parts.components.join(" ")})${parts.params.map(([name, value]) => `;${name}=${value}`).join("")}`;
}

/**
 * The inner list the gateway signs for `signatureInput` (RFC 9421 section 2.3: the member re-serialised), or null
 * when the header is not a dictionary with an inner list under `label`.
 */
export function canonicalInnerList(signatureInput: string, label: string): string | null {
  try {
    const member = parseDictionary(signatureInput).get(label);
    return member && Array.isArray(member[0]) ? serializeInnerList(member as InnerList) : null;
  } catch {
    return null;
  }
}

/**
 * The signature over `request` as covered by the `label` member of `signatureInput`, or 64 random bytes when no base
 * can be built from it (unparsable, an unsupported or absent component): no signer could have signed it either.
 */
export async function signatureOver(origin: string, request: FuzzRequest, signatureInput: string, label: string, key: SigningKey): Promise<Uint8Array> {
  const innerList = canonicalInnerList(signatureInput, label);
  let base: string;
  try {
    if (innerList === null) throw new Error("no inner list");
    const components = (parseDictionary(signatureInput).get(label) as InnerList)[0].map(([name]) => String(name));
    base = buildSignatureBase(
      messageFromRequest({ method: request.method, url: origin + request.target, headers: asReceived(request.headers) }),
      components,
      innerList,
    );
  } catch {
    return crypto.getRandomValues(new Uint8Array(64));
  }
  if (key.alg === "hmac-sha256") return hmacSha256(key.secret, utf8(base));
  return new Uint8Array(await crypto.subtle.sign("Ed25519", key.privateKey, utf8(base)));
}

/** The bytes of the `label` member of a `Signature` header, or null when it has none that is a byte sequence. */
export function signatureBytes(signature: string, label: string): string | null {
  try {
    const member = parseDictionary(signature).get(label);
    return member && member[0] instanceof ArrayBuffer ? toBase64(new Uint8Array(member[0])) : null;
  } catch {
    return null;
  }
}

/** Header values as a server reads them off the wire: the UTF-8 bytes the raw connection writes, taken as latin1. */
function asReceived(headers: Record<string, string>): Headers {
  const received = new Headers();
  for (const [name, value] of Object.entries(headers)) received.append(name, Buffer.from(value, "utf8").toString("latin1"));
  return received;
}

export function signatureMember(label: string, signature: Uint8Array): string {
  return `${label}=:${toBase64(signature)}:`;
}
