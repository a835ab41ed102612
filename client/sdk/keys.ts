import { fromBase64, toBase64Url } from "../../shared/crypto/encoding.ts";
import { ed25519Thumbprint } from "../../shared/keys/jwk-thumbprint.ts";
import type { SigningKey } from "../../shared/signature/index.ts";
import { VerigateUsageError } from "./errors.ts";

/** The key file format, shared with `scripts/dev-key.ts`: a private JWK (RFC 8037) plus the keyid it signs as. */
export interface Ed25519PrivateJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  d: string;
  kid: string;
}

/** An HMAC key as a JWK (RFC 7518 section 6.4): `k` is the secret `POST /v1/keys` returned. */
export interface HmacJwk {
  kty: "oct";
  k: string;
  kid: string;
}

export type PrivateJwk = Ed25519PrivateJwk | HmacJwk;

/** What a client signs with. */
export interface ClientKey {
  keyid: string;
  signingKey: SigningKey;
  /** ed25519 only: the raw public key, base64url, as `/v1/keys` takes it. */
  publicKey?: string;
}

export { ed25519Thumbprint };

/** A freshly generated ed25519 key: its key file form, and the pair itself (extractable, so a test can export it). */
export interface GeneratedEd25519Key {
  jwk: Ed25519PrivateJwk;
  pair: CryptoKeyPair;
}

/**
 * The one ed25519 key generator: `verigate keygen`, the dev scripts, the bench and the tests all call it.
 * Its keyid defaults to the RFC 7638 thumbprint, which is what the gateway would pick. `jwk.x` is the raw
 * public key in base64url, the form `ADMIN_KEYS` and `/v1/keys` take.
 */
export async function generateEd25519Key(kid?: string): Promise<GeneratedEd25519Key> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const { x, d } = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  if (x === undefined || d === undefined) throw new Error("WebCrypto exported an Ed25519 JWK without x or d");
  return { jwk: { kty: "OKP", crv: "Ed25519", x, d, kid: kid ?? (await ed25519Thumbprint(x)) }, pair };
}

/** Imports a key file's JWK for signing; anything but a complete private key with a `kid` is a usage error. */
export async function importJwk(value: unknown): Promise<ClientKey> {
  if (typeof value !== "object" || value === null) throw new VerigateUsageError("the key is not a JSON object");
  const jwk = value as Record<string, unknown>;
  const kid = jwk.kid;
  if (typeof kid !== "string" || kid === "") throw new VerigateUsageError("the key has no kid (the keyid it signs as)");
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && typeof jwk.x === "string" && typeof jwk.d === "string") {
    const privateKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d }, { name: "Ed25519" }, false, ["sign"]);
    return { keyid: kid, signingKey: { alg: "ed25519", privateKey }, publicKey: jwk.x };
  }
  if (jwk.kty === "oct" && typeof jwk.k === "string") {
    return { keyid: kid, signingKey: { alg: "hmac-sha256", secret: fromBase64(jwk.k) } };
  }
  throw new VerigateUsageError("the key is neither a private Ed25519 JWK (kty OKP, x, d) nor an HMAC JWK (kty oct, k)");
}

/** The public half of a JWK, for `/v1/keys`; accepts a private JWK and keeps only `x`. */
export function publicKeyOf(value: unknown): { keyid: string; publicKey: string } {
  const jwk = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string" || typeof jwk.kid !== "string") {
    throw new VerigateUsageError("not an Ed25519 JWK with x and kid");
  }
  return { keyid: jwk.kid, publicKey: toBase64Url(fromBase64(jwk.x)) };
}
