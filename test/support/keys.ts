import { toBase64, toBase64Url } from "../../shared/crypto/encoding.ts";

/** A fresh ed25519 key pair with its raw public key in base64url, as `ADMIN_KEYS` and `/v1/keys` take it. */
export async function newEd25519Key(): Promise<{ privateKey: CryptoKey; publicKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  return { privateKey: pair.privateKey, publicKey: toBase64Url(raw) };
}

/** A DER key (`pkcs8`, `spki`) as PEM text, the form Node's crypto and the libraries built on it take. */
export function pem(label: "PRIVATE KEY" | "PUBLIC KEY", der: ArrayBuffer): string {
  return `-----BEGIN ${label}-----\n${toBase64(new Uint8Array(der))}\n-----END ${label}-----\n`;
}
