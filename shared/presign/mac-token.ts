import { fromBase64, timingSafeEqual, toBase64Url, utf8 } from "../crypto/encoding.ts";

/**
 * Tokens of the form `<payload>.<mac>`: a base64url JSON payload of claims, carrying no secret, and an HMAC-SHA-256
 * of it under a key derived from PRESIGN_SECRET with HKDF for one `purpose`. The purpose is the HKDF info label, so a
 * token made for one use (gateway links, Git LFS actions) never verifies as another's. What the claims grant, their
 * expiry and revocation are the caller's checks: this module only says the payload is the one that was issued.
 */

/** Bumped if the payload or MAC construction ever changes, so old tokens fail closed instead of misparsing. */
const TOKEN_VERSION = 1;
const HKDF_SALT = "verigate";
/** Ten times the longest plausible payload (a 512-byte key plus fields, base64url); longer input is not a token. */
const MAX_TOKEN_CHARS = 4096;

const macKeys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key derived once per secret and purpose with HKDF, so PRESIGN_SECRET itself never keys a MAC directly. */
function macKey(secret: string, purpose: string): Promise<CryptoKey> {
  const id = `${purpose}\u0000${secret}`;
  let key = macKeys.get(id);
  if (!key) {
    key = (async () => {
      const material = await crypto.subtle.importKey("raw", utf8(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: utf8(HKDF_SALT), info: utf8(purpose) },
        material,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
    })();
    macKeys.set(id, key);
  }
  return key;
}

async function mac(secret: string, purpose: string, payload: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(secret, purpose), utf8(payload)));
}

export async function sealClaims(claims: object, secret: string, purpose: string): Promise<string> {
  const payload = toBase64Url(utf8(JSON.stringify({ v: TOKEN_VERSION, ...claims })));
  return `${payload}.${toBase64Url(await mac(secret, purpose, payload))}`;
}

/** The claims of a token whose MAC verifies under `purpose`, unchecked beyond that; null for anything else. */
export async function openClaims(token: string, secret: string, purpose: string): Promise<Record<string, unknown> | null> {
  const dot = token.indexOf(".");
  if (token.length > MAX_TOKEN_CHARS || dot <= 0 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return null;
  const payload = token.slice(0, dot);
  // Compared as text, not decoded bytes: base64url's spare bits would let two spellings of one MAC both pass.
  const expected = utf8(toBase64Url(await mac(secret, purpose, payload)));
  if (!timingSafeEqual(expected, utf8(token.slice(dot + 1)))) return null;
  const claims = JSON.parse(new TextDecoder().decode(fromBase64(payload))) as Record<string, unknown>;
  return claims.v === TOKEN_VERSION ? claims : null;
}
