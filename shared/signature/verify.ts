import { timingSafeEqual, utf8 } from "../crypto/encoding.ts";
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, HMAC_SHA256_BYTES } from "./constants.ts";

/** An Ed25519 key as its 32 raw bytes, or as imported once by `importEd25519PublicKey` and reused. */
export type VerificationKey = { alg: "ed25519"; publicKey: Uint8Array | CryptoKey } | { alg: "hmac-sha256"; secret: Uint8Array };

/**
 * True when `signature` is valid for `base` under `key`. Inputs of the wrong length are false, not errors,
 * since they come from the client; a runtime failure still throws, so it is logged rather than read as "invalid".
 */
export async function verifySignature(base: string, signature: Uint8Array, key: VerificationKey): Promise<boolean> {
  if (key.alg === "ed25519") {
    if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
    const publicKey = key.publicKey instanceof Uint8Array ? await importEd25519PublicKey(key.publicKey) : key.publicKey;
    if (publicKey === null) return false;
    return crypto.subtle.verify("Ed25519", publicKey, copy(signature), utf8(base));
  }
  if (key.secret.length === 0 || signature.length !== HMAC_SHA256_BYTES) return false;
  // The MAC is computed and compared here, in constant time, so the comparison can be audited.
  return timingSafeEqual(await hmacSha256(key.secret, utf8(base)), signature);
}

/** The key `verifySignature` verifies with; null when the bytes are not an Ed25519 public key's 32. */
export async function importEd25519PublicKey(bytes: Uint8Array): Promise<CryptoKey | null> {
  if (bytes.length !== ED25519_PUBLIC_KEY_BYTES) return null;
  return crypto.subtle.importKey("raw", copy(bytes), { name: "Ed25519" }, false, ["verify"]);
}

export async function hmacSha256(secret: Uint8Array, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", copy(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, copy(data)));
}

/** WebCrypto's types take only ArrayBuffer-backed views; keys, MACs and bases are small enough to copy. */
function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
