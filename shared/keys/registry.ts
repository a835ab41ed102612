import type { AdminKey } from "../config/index.ts";
import { toBase64Url } from "../crypto/encoding.ts";
import { SHARE, VerigateError } from "../errors/index.ts";
import type { MetadataStore } from "../metadata/index.ts";
import { ACTIONS, type KeyRecord } from "./index.ts";
import { ed25519Thumbprint } from "./jwk-thumbprint.ts";
import { type KeyLookupCache, keyLookupCache } from "./lookup-cache.ts";
import { parseAlgorithm, parseEd25519PublicKey, parseExpiry, parseScopes, isReservedKeyid, validKeyid } from "./validate.ts";

/** Metadata prefix of key records (docs/STORAGE.md). */
const KEY_PREFIX = "key:";
/** 32 bytes: the HMAC-SHA-256 block output size; RFC 2104 advises no less. */
const HMAC_SECRET_BYTES = 32;

/** A key record as clients may see it: the HMAC secret never leaves the gateway after creation. */
export type PublicKeyRecord = Omit<KeyRecord, "secret">;

export function publicView(record: KeyRecord): PublicKeyRecord {
  const { secret: _secret, ...rest } = record;
  return rest;
}

/**
 * Key records live in the metadata store; bootstrap admin keys come from `ADMIN_KEYS`. A stored record
 * takes precedence over a bootstrap key of the same id, so revoking a bootstrap key through the API sticks.
 * Signing checks (`findUsable`) go through the process's lookup cache, bounded by `KEY_CACHE_TTL_MS`;
 * key management (`find`, `list`, `create`, `revoke`) always reads the store.
 */
export class KeyRegistry {
  readonly #metadata: MetadataStore;
  readonly #bootstrap: ReadonlyMap<string, AdminKey>;
  readonly #cache: KeyLookupCache;

  constructor(metadata: MetadataStore, adminKeys: readonly AdminKey[]) {
    this.#metadata = metadata;
    this.#bootstrap = new Map(adminKeys.map((key) => [key.keyid, key]));
    this.#cache = keyLookupCache(metadata);
  }

  /** The record as stored or bootstrapped, whatever its status; null when unknown. */
  async find(keyid: string): Promise<KeyRecord | null> {
    if (!validKeyid(keyid)) return null;
    const stored = await this.#metadata.get<KeyRecord>(KEY_PREFIX + keyid);
    if (stored) return stored;
    const bootstrap = this.#bootstrap.get(keyid);
    return bootstrap ? bootstrapRecord(bootstrap) : null;
  }

  /**
   * The record when it may sign now: known, active and not expired. The record may be up to `KEY_CACHE_TTL_MS`
   * old when another process changed it; expiry is checked against `nowMs` on every call, never cached.
   */
  async findUsable(keyid: string, nowMs: number): Promise<KeyRecord | null> {
    // Checked before the cache as well as in `find`: a malformed keyid never takes a cache entry.
    if (!validKeyid(keyid)) return null;
    const record = await this.#cache.lookup(keyid, nowMs, () => this.find(keyid));
    if (!record || record.status !== "active") return null;
    if (record.expires_at !== undefined && Date.parse(record.expires_at) <= nowMs) return null;
    return record;
  }

  async list(): Promise<KeyRecord[]> {
    const records = new Map<string, KeyRecord>();
    for (const key of this.#bootstrap.values()) records.set(key.keyid, bootstrapRecord(key));
    let cursor: string | undefined;
    do {
      const page = await this.#metadata.list(KEY_PREFIX, cursor ? { cursor } : {});
      const stored = await Promise.all(page.keys.map((key) => this.#metadata.get<KeyRecord>(key)));
      for (const record of stored) if (record) records.set(record.keyid, record);
      cursor = page.cursor;
    } while (cursor);
    return [...records.values()].sort((a, b) => a.keyid.localeCompare(b.keyid));
  }

  /** Validates a creation request and stores the new record; the returned record holds the HMAC secret once. */
  async create(input: Record<string, unknown>, nowMs: number): Promise<KeyRecord> {
    const alg = parseAlgorithm(input.alg);
    const scopes = parseScopes(input.scopes);
    const expiresAt = parseExpiry(input.expires_at, nowMs);
    if (input.admin !== undefined && typeof input.admin !== "boolean") throw new VerigateError("bad_request", "admin must be a boolean", SHARE);
    const material = alg === "ed25519" ? { public_key: toBase64Url(parseEd25519PublicKey(input.public_key)) } : { secret: newSecret() };
    if (alg === "hmac-sha256" && input.public_key !== undefined) throw new VerigateError("bad_request", "hmac keys take no public_key", SHARE);
    const keyid = input.keyid ?? (material.public_key ? await ed25519Thumbprint(material.public_key) : undefined);
    if (!validKeyid(keyid)) throw new VerigateError("bad_request", "keyid must be 1-128 characters of A-Z a-z 0-9 . _ : -", SHARE);
    if (isReservedKeyid(keyid)) throw new VerigateError("bad_request", `keyid ${keyid} is reserved for the gateway`, SHARE);
    if (await this.find(keyid))
      throw new VerigateError("already_exists", `a key record with keyid ${keyid} exists (keyids are never reused, even revoked ones)`, SHARE);
    const record: KeyRecord = {
      keyid,
      alg,
      ...material,
      scopes,
      admin: input.admin === true,
      status: "active",
      created_at: new Date(nowMs).toISOString(),
      ...(expiresAt ? { expires_at: expiresAt } : {}),
    };
    await this.#metadata.put(KEY_PREFIX + keyid, record);
    // This process may hold a cached "unknown" for the keyid: the new key works here at once.
    this.#cache.invalidate(keyid);
    return record;
  }

  /** Marks a key revoked; the record stays so the keyid is never reused for another key. */
  async revoke(keyid: string): Promise<boolean> {
    const record = await this.find(keyid);
    if (!record) return false;
    await this.#metadata.put(KEY_PREFIX + keyid, { ...record, status: "revoked" });
    // Immediate in this process; other processes see it once their entry is older than KEY_CACHE_TTL_MS.
    this.#cache.invalidate(keyid);
    return true;
  }
}

function bootstrapRecord(key: AdminKey): KeyRecord {
  return {
    keyid: key.keyid,
    alg: "ed25519",
    public_key: key.publicKey,
    scopes: [{ prefix: "", actions: [...ACTIONS] }],
    admin: true,
    status: "active",
    // A bootstrap key exists from deployment; the epoch marks that it has no stored creation time.
    created_at: new Date(0).toISOString(),
  };
}

function newSecret(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(HMAC_SECRET_BYTES)));
}
