import type { KeyRecord } from "./index.ts";

/**
 * How long a key lookup is reused, in milliseconds of the gateway's clock: the bound on how late another process
 * (another Node server, Lambda execution environment or Workers isolate) sees a key revoked or created. Five
 * seconds keeps a revocation far inside the signature window (300 s) and below KV's own propagation (about 60 s),
 * while a busy client signing many requests a second reads its key record once per five seconds instead of per
 * request (PROTOCOL section 1, "Keys and scopes").
 */
export const KEY_CACHE_TTL_MS = 5_000;
/**
 * Entries held at most, found and unknown keyids alike; the oldest goes first. A flood of distinct unknown keyids
 * is bounded by the per-client rate limit, not by this cache, which only caps the memory such a flood can take.
 */
const KEY_CACHE_MAX_ENTRIES = 10_000;

interface Entry {
  /** Shared by concurrent lookups of one keyid: one store read however many requests wait on it. */
  record: Promise<KeyRecord | null>;
  expiresAtMs: number;
}

/**
 * Key lookups of one process, for one metadata store. Negative answers are cached too (for the same bound), so a
 * client retrying an unknown keyid costs no store read per request; this process's create and revoke replace the
 * entry at once. A failed read is never kept.
 */
export class KeyLookupCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(ttlMs = KEY_CACHE_TTL_MS, maxEntries = KEY_CACHE_MAX_ENTRIES) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** The cached answer for `keyid` while it is younger than the bound at `nowMs`; else `read`, kept from `nowMs`. */
  lookup(keyid: string, nowMs: number, read: () => Promise<KeyRecord | null>): Promise<KeyRecord | null> {
    const cached = this.#entries.get(keyid);
    // A clock that went backwards (an injected one, a stepped host clock) must not make an entry immortal.
    if (cached && nowMs < cached.expiresAtMs && nowMs >= cached.expiresAtMs - this.#ttlMs) return cached.record;
    if (cached) this.#entries.delete(keyid);
    const entry: Entry = { record: read(), expiresAtMs: nowMs + this.#ttlMs };
    entry.record.catch(() => {
      if (this.#entries.get(keyid) === entry) this.#entries.delete(keyid);
    });
    this.#evictOldest();
    this.#entries.set(keyid, entry);
    return entry.record;
  }

  /** Forgets `keyid`: the next lookup reads the store. Called by this process's create and revoke. */
  invalidate(keyid: string): void {
    this.#entries.delete(keyid);
  }

  get size(): number {
    return this.#entries.size;
  }

  #evictOldest(): void {
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) return;
      this.#entries.delete(oldest.value);
    }
  }
}

/**
 * One cache per metadata store object, which each build creates once per process (per Lambda execution environment,
 * per Workers environment object): the cache lives exactly as long as the store it reads, and two gateways on
 * separate store objects (tests, a second server) never share entries, as two processes would not.
 */
const caches = new WeakMap<object, KeyLookupCache>();

export function keyLookupCache(store: object): KeyLookupCache {
  let cache = caches.get(store);
  if (!cache) {
    cache = new KeyLookupCache();
    caches.set(store, cache);
  }
  return cache;
}
