import { utf8 } from "./encoding.ts";

/**
 * The one place secrets become purpose keys. Every HKDF info label the gateway uses is listed here, one per purpose,
 * and each is passed by exactly one caller: a key derived for one purpose can never verify or decrypt for another,
 * even though several purposes share a deployment secret (docs/ENCRYPTION.md "Key hierarchy"). A new purpose gets a
 * new label here; a label is never reused or changed, since every stored MAC and wrapped key depends on it.
 */
export const HKDF_LABELS = {
  /** Gateway download links (presign/token.ts), keyed by PRESIGN_SECRET. */
  presignLink: "verigate presign link v1",
  /** Git LFS action hrefs (lfs/action-token.ts), keyed by PRESIGN_SECRET. */
  lfsAction: "verigate lfs action v1",
  /** The key-encryption key that wraps each object's data key (crypto/envelope.ts), keyed by an ENCRYPTION_KEYS key. */
  dataKeyWrapping: "verigate data key wrapping v1",
  /** The HMAC key of manifest signatures (objects/manifest-signature.ts), keyed by an ENCRYPTION_KEYS key. */
  manifestSignature: "verigate manifest signature v1",
  /** The public check value that tells a wrong ENCRYPTION_KEYS value from tampered metadata (crypto/key-ring.ts). */
  keyCheck: "verigate deployment key check v1",
} as const;

export type HkdfPurpose = keyof typeof HKDF_LABELS;

/**
 * One fixed salt for every derivation. RFC 5869 section 3.1: a fixed salt is fine when the input is already a secret
 * key; the separation between purposes comes from the info label, not the salt.
 */
const HKDF_SALT = utf8("verigate");

/** An HMAC-SHA-256 key, or an AES-256-GCM key, for `purpose`, derived from `secret` with HKDF-SHA-256. Never extractable. */
export async function derivePurposeKey(
  secret: Uint8Array<ArrayBuffer>,
  purpose: HkdfPurpose,
  algorithm: "HMAC" | "AES-GCM",
  usages: KeyUsage[],
): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  const derived = algorithm === "HMAC" ? { name: "HMAC", hash: "SHA-256", length: 256 } : { name: "AES-GCM", length: 256 };
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: utf8(HKDF_LABELS[purpose]) }, material, derived, false, usages);
}
