import { generateEd25519Key } from "../../client/sdk/keys.ts";
import { toBase64 } from "../../shared/crypto/encoding.ts";

/** A fresh ed25519 key (the SDK's generator) as tests use it: the private key, and the raw public key in base64url as `ADMIN_KEYS` and `/v1/keys` take it. */
export async function newEd25519Key(): Promise<{ privateKey: CryptoKey; publicKey: string }> {
  const { jwk, pair } = await generateEd25519Key();
  return { privateKey: pair.privateKey, publicKey: jwk.x };
}

/** A DER key (`pkcs8`, `spki`) as PEM text, the form Node's crypto and the libraries built on it take. */
export function pem(label: "PRIVATE KEY" | "PUBLIC KEY", der: ArrayBuffer): string {
  return `-----BEGIN ${label}-----\n${toBase64(new Uint8Array(der))}\n-----END ${label}-----\n`;
}
