import { fromBase64 } from "../crypto/encoding.ts";
import { SHARE, VerigateError } from "../errors/index.ts";
import { ACTIONS, type Action, type KeyAlgorithm, type Scope } from "./index.ts";

/** Keyids travel in signature parameters and metadata keys; a narrow alphabet keeps both unambiguous. */
const KEYID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Enough scopes for real teams, small enough that a key record stays a few KiB. */
const MAX_SCOPES = 64;
const MAX_PREFIX_BYTES = 512;
export const ED25519_PUBLIC_KEY_BYTES = 32;

/**
 * Names the gateway uses for itself (the `unauthenticated` caller of soft and off modes, and anything it may
 * claim or log under a `verigate` name): no key may carry one, so no signer can pass for the gateway.
 */
const RESERVED_KEYID = /^(verigate|unauthenticated$)/i;

export function validKeyid(keyid: unknown): keyid is string {
  return typeof keyid === "string" && KEYID_PATTERN.test(keyid);
}

export function isReservedKeyid(keyid: string): boolean {
  return RESERVED_KEYID.test(keyid);
}

export function parseAlgorithm(alg: unknown): KeyAlgorithm {
  if (alg === "ed25519" || alg === "hmac-sha256") return alg;
  throw new VerigateError("bad_request", "alg must be ed25519 or hmac-sha256", SHARE);
}

/** Decodes a raw ed25519 public key given as base64url (or base64) text; exactly 32 bytes. */
export function parseEd25519PublicKey(text: unknown): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    throw new VerigateError("bad_request", "public_key must be a raw 32-byte ed25519 key in base64url", SHARE);
  }
  const bytes = fromBase64(text);
  if (bytes.length !== ED25519_PUBLIC_KEY_BYTES) throw new VerigateError("bad_request", "public_key must be 32 bytes", SHARE);
  return bytes;
}

export function parseScopes(raw: unknown): Scope[] {
  if (!Array.isArray(raw) || raw.length > MAX_SCOPES) {
    throw new VerigateError("bad_request", `scopes must be an array of at most ${MAX_SCOPES}`, SHARE);
  }
  return raw.map((entry: unknown) => {
    if (typeof entry !== "object" || entry === null) throw new VerigateError("bad_request", "scope must be an object", SHARE);
    const { prefix, actions } = entry as { prefix?: unknown; actions?: unknown };
    if (typeof prefix !== "string" || new TextEncoder().encode(prefix).length > MAX_PREFIX_BYTES) {
      throw new VerigateError("bad_request", "scope prefix must be a string of at most 512 bytes", SHARE);
    }
    if (!Array.isArray(actions) || actions.some((action) => !ACTIONS.includes(action as Action))) {
      throw new VerigateError("bad_request", `scope actions must be among ${ACTIONS.join(", ")}`, SHARE);
    }
    return { prefix, actions: [...new Set(actions as Action[])] };
  });
}

/** An optional RFC 3339 timestamp; returned normalised to ISO form. */
export function parseExpiry(raw: unknown, nowMs: number): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const ms = typeof raw === "string" ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw new VerigateError("bad_request", "expires_at must be an RFC 3339 timestamp", SHARE);
  if (ms <= nowMs) throw new VerigateError("bad_request", "expires_at must be in the future", SHARE);
  return new Date(ms).toISOString();
}
