import { fromBase64, toBase64Url, utf8 } from "./encoding.ts";
import { EncryptionFailure } from "./failures.ts";
import { derivePurposeKey, type HkdfPurpose } from "./hkdf.ts";

/**
 * The deployment keys of `ENCRYPTION_KEYS` (docs/ENCRYPTION.md "Key hierarchy"): `keyid=<base64 of 32 bytes>`,
 * comma-separated, the first one current. New objects use the current key; the others stay to read what they still
 * protect until a rotation has re-wrapped it. A deployment key never keys a cipher or a MAC itself: each use is a key
 * derived from it with HKDF under that use's own label (hkdf.ts).
 */

export const DEPLOYMENT_KEY_BYTES = 32;

/** 128 bits of the check value: enough that a wrong key never matches by chance, short in every manifest. */
const KEY_CHECK_BYTES = 16;
const KEY_CHECK_MESSAGE = "verigate deployment key check";

/** Key ids are stored in every manifest and shown by /healthz: short, printable, no separator of this syntax. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export type KeyRingProblem =
  /** No entry at all. */
  | "empty"
  /** An entry without `=`, or an empty entry (two commas in a row). */
  | "entry_malformed"
  | "key_id_invalid"
  | "key_id_duplicate"
  | "key_not_base64"
  /** The key does not decode to exactly 32 bytes. */
  | "key_length";

/**
 * Why ENCRYPTION_KEYS was refused, for the config layer to report as a problem. The message names the entry by its
 * position and never holds key material, since configuration problems are logged and shown.
 */
export class KeyRingError extends Error {
  override readonly name = "KeyRingError";
  readonly problem: KeyRingProblem;
  /** 1-based position of the entry at fault; 0 when the whole value is. */
  readonly entry: number;

  constructor(problem: KeyRingProblem, entry: number) {
    super(`ENCRYPTION_KEYS entry ${entry}: ${problem}`);
    this.problem = problem;
    this.entry = entry;
  }
}

export class KeyRing {
  /** The key id new objects are wrapped and signed under. */
  readonly current: string;
  /** Every key id, current first, in the configured order. */
  readonly ids: readonly string[];
  readonly #secrets: ReadonlyMap<string, Uint8Array<ArrayBuffer>>;
  readonly #derived = new Map<string, Promise<CryptoKey>>();

  constructor(keys: ReadonlyMap<string, Uint8Array<ArrayBuffer>>) {
    const ids = [...keys.keys()];
    if (ids[0] === undefined) throw new KeyRingError("empty", 0);
    this.current = ids[0];
    this.ids = Object.freeze(ids);
    this.#secrets = keys;
  }

  has(kid: string): boolean {
    return this.#secrets.has(kid);
  }

  /** The AES-256-GCM key-encryption key of `kid`; `key_unavailable` when the ring lacks it. */
  wrappingKey(kid: string): Promise<CryptoKey> {
    return this.#derive(kid, "dataKeyWrapping", "AES-GCM", ["encrypt", "decrypt"]);
  }

  /** The HMAC-SHA-256 manifest signing key of `kid`; `key_unavailable` when the ring lacks it. */
  signingKey(kid: string): Promise<CryptoKey> {
    return this.#derive(kid, "manifestSignature", "HMAC", ["sign"]);
  }

  /**
   * The check value of `kid`'s key: the first 16 bytes of an HMAC under a key derived for this alone, unpadded
   * base64url. Signed manifests record it, so a key id whose bytes changed in ENCRYPTION_KEYS is reported as a
   * misconfiguration instead of as every object failing its signature. It is a PRF output: it says nothing of the key.
   */
  async keyCheck(kid: string): Promise<string> {
    const key = await this.#derive(kid, "keyCheck", "HMAC", ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(KEY_CHECK_MESSAGE)));
    return toBase64Url(mac.subarray(0, KEY_CHECK_BYTES));
  }

  /** Derived once per key id and purpose: HKDF and key import are then off the per-object path. */
  #derive(kid: string, purpose: HkdfPurpose, algorithm: "HMAC" | "AES-GCM", usages: KeyUsage[]): Promise<CryptoKey> {
    const secret = this.#secrets.get(kid);
    if (!secret) return Promise.reject(new EncryptionFailure("key_unavailable", `deployment key ${JSON.stringify(kid)} is not in ENCRYPTION_KEYS`));
    const cacheKey = `${purpose}\n${kid}`;
    let key = this.#derived.get(cacheKey);
    if (!key) {
      key = derivePurposeKey(secret, purpose, algorithm, usages);
      this.#derived.set(cacheKey, key);
    }
    return key;
  }
}

/** The key ring of an ENCRYPTION_KEYS value; throws `KeyRingError`. Spaces around entries are ignored. */
export function parseKeyRing(text: string): KeyRing {
  if (text.trim() === "") throw new KeyRingError("empty", 0);
  const keys = new Map<string, Uint8Array<ArrayBuffer>>();
  text.split(",").forEach((raw, position) => {
    const entry = position + 1;
    const item = raw.trim();
    const eq = item.indexOf("=");
    if (eq <= 0) throw new KeyRingError(eq === 0 ? "key_id_invalid" : "entry_malformed", entry);
    const kid = item.slice(0, eq);
    if (!KEY_ID.test(kid)) throw new KeyRingError("key_id_invalid", entry);
    if (keys.has(kid)) throw new KeyRingError("key_id_duplicate", entry);
    keys.set(kid, decodeKey(item.slice(eq + 1), entry));
  });
  return new KeyRing(keys);
}

/** Standard base64 of exactly 32 bytes, padding optional; anything else is refused rather than guessed at. */
function decodeKey(text: string, entry: number): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new KeyRingError("key_not_base64", entry);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromBase64(text);
  } catch {
    throw new KeyRingError("key_not_base64", entry);
  }
  if (bytes.length !== DEPLOYMENT_KEY_BYTES) throw new KeyRingError("key_length", entry);
  return bytes;
}
