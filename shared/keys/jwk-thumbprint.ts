import { sha256, toBase64Url, utf8 } from "../crypto/encoding.ts";

/**
 * RFC 7638 thumbprint of an Ed25519 public key (RFC 8037 OKP JWK): the default keyid, so a key's id is
 * derived from the key itself and two clients cannot pick the same id for different keys by accident.
 */
export async function ed25519Thumbprint(publicKeyBase64Url: string): Promise<string> {
  // Members in lexicographic order, no whitespace, as RFC 7638 section 3 requires.
  const canonical = `{"crv":"Ed25519","kty":"OKP","x":"${publicKeyBase64Url}"}`;
  return toBase64Url(await sha256(utf8(canonical)));
}
