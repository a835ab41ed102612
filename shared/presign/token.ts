import { fromBase64, timingSafeEqual, toBase64Url, utf8 } from "../crypto/encoding.ts";
import { derivePurposeKey } from "../crypto/hkdf.ts";
import { VerigateError } from "../errors/index.ts";

/**
 * Gateway download links: `/v1/dl/<payload>.<mac>`. The payload names what the link grants and carries no
 * secret; the MAC (HMAC-SHA-256 under a key derived from PRESIGN_SECRET) makes every byte of it tamper-proof.
 */
export interface LinkClaims {
  /** Object key. */
  key: string;
  /** The manifest version the link is pinned to: an overwrite does not change what it serves. */
  version: string;
  /** Expiry, epoch seconds. */
  exp: number;
  /** The keyid that issued the link; revoking it revokes its links. */
  kid: string;
  /** Present on single-use links: the id claimed in the replay store on first use. */
  nonce?: string;
}

/** Bumped if the payload or MAC construction ever changes, so old links fail closed instead of misparsing. */
const TOKEN_VERSION = 1;
/** Ten times the longest plausible payload (a 512-byte key plus fields, base64url); longer input is not a link. */
const MAX_TOKEN_CHARS = 4096;

const macKeys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key derived once per secret with HKDF, so PRESIGN_SECRET itself never keys a MAC directly. */
function macKey(secret: string): Promise<CryptoKey> {
  let key = macKeys.get(secret);
  if (!key) {
    key = derivePurposeKey(utf8(secret), "presignLink", "HMAC", ["sign"]);
    macKeys.set(secret, key);
  }
  return key;
}

async function mac(secret: string, payload: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(secret), utf8(payload)));
}

export async function issueLinkToken(claims: LinkClaims, secret: string): Promise<string> {
  const payload = toBase64Url(utf8(JSON.stringify({ v: TOKEN_VERSION, ...claims })));
  return `${payload}.${toBase64Url(await mac(secret, payload))}`;
}

/**
 * The claims of a token whose MAC verifies; `not_found` for anything else, so a guessed or altered token
 * learns nothing about which links exist. Expiry and revocation are the caller's checks.
 */
export async function readLinkToken(token: string, secret: string): Promise<LinkClaims> {
  const invalid = () => new VerigateError("not_found", "link token fails verification");
  const dot = token.indexOf(".");
  if (token.length > MAX_TOKEN_CHARS || dot <= 0 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  const payload = token.slice(0, dot);
  // Compared as text, not decoded bytes: base64url's spare bits would let two spellings of one MAC both pass.
  const expected = utf8(toBase64Url(await mac(secret, payload)));
  if (!timingSafeEqual(expected, utf8(token.slice(dot + 1)))) throw invalid();
  const claims = JSON.parse(new TextDecoder().decode(fromBase64(payload))) as Record<string, unknown>;
  if (claims.v !== TOKEN_VERSION) throw invalid();
  const { key, version, exp, kid, nonce } = claims;
  if (typeof key !== "string" || typeof version !== "string" || typeof kid !== "string" || !Number.isSafeInteger(exp)) throw invalid();
  if (nonce !== undefined && typeof nonce !== "string") throw invalid();
  return { key, version, exp: exp as number, kid, ...(nonce === undefined ? {} : { nonce }) };
}
