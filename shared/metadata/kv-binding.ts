import { conditionHolds, type ListOptions, type ListPage, type MetadataStore, type SwapCondition, type SwapResult } from "./index.ts";
import { keyOfListed, kvNameOf, kvPrefixOf, type NameMetadata } from "./kv-names.ts";

/** The subset of the Workers KV binding this backend uses; declared here so `shared/` needs no vendor types. */
export interface KvNamespaceLike {
  get(key: string, type: "json"): Promise<unknown>;
  put(key: string, value: string, options?: { metadata?: NameMetadata }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: { prefix: string; limit?: number; cursor?: string }): Promise<{
    keys: { name: string; metadata?: unknown }[];
    list_complete: boolean;
    cursor?: string;
  }>;
}

/**
 * What serialises swaps where KV cannot: it checks each condition against its own strongly consistent view of
 * the key and writes KV itself (the Durable Object in durable-object.ts).
 */
export interface SwapAuthority {
  swap<T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string): Promise<SwapResult<T>>;
}

/** KV's own page size cap; asking for more is an error. */
const KV_MAX_LIST_LIMIT = 1000;

/**
 * Metadata in Workers KV. KV is eventually consistent across locations (about 60 s), which is why blobs are
 * deleted only after a grace period and why replay protection does not live here. KV has no compare-and-set:
 * with a `SwapAuthority` every swap goes through it (atomic); without one a swap reads, compares and writes,
 * and two concurrent swaps can both succeed. Keys longer than KV allows are renamed (kv-names.ts).
 */
export class KvMetadataStore implements MetadataStore {
  readonly backend = "kv" as const;
  readonly atomicSwap: boolean;
  readonly #kv: KvNamespaceLike;
  readonly #authority: SwapAuthority | undefined;

  constructor(kv: KvNamespaceLike, authority?: SwapAuthority) {
    this.#kv = kv;
    this.#authority = authority;
    this.atomicSwap = authority !== undefined;
  }

  async get<T>(key: string): Promise<T | null> {
    return (await this.#kv.get((await kvNameOf(key)).name, "json")) as T | null;
  }

  async put(key: string, value: unknown): Promise<void> {
    const { name, metadata } = await kvNameOf(key);
    await this.#kv.put(name, JSON.stringify(value), metadata ? { metadata } : undefined);
  }

  async delete(key: string): Promise<void> {
    await this.#kv.delete((await kvNameOf(key)).name);
  }

  /** A page filtered to `prefix` (a long prefix lists by its head) may hold fewer than `limit` keys while a cursor follows. */
  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const names = kvPrefixOf(prefix);
    if (!names) return { keys: [], cursor: undefined };
    const limit = Math.min(options.limit ?? KV_MAX_LIST_LIMIT, KV_MAX_LIST_LIMIT);
    const page = await this.#kv.list({ prefix: names.kvPrefix, limit, ...(options.cursor ? { cursor: options.cursor } : {}) });
    const keys = page.keys.map(keyOfListed);
    return {
      keys: names.exact ? keys : keys.filter((key) => key.startsWith(prefix)),
      cursor: page.list_complete ? undefined : page.cursor,
    };
  }

  swap<T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string): Promise<SwapResult<T>> {
    return this.#authority ? this.#authority.swap(key, next, condition, tagField) : this.#readCompareWrite(key, next, condition, tagField);
  }

  /** Best effort: another writer can change the key between the read and the write. */
  async #readCompareWrite<T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string): Promise<SwapResult<T>> {
    const previous = await this.get<T>(key);
    if (!conditionHolds(condition, previous, tagField)) return { done: false };
    if (next === null) await this.delete(key);
    else await this.put(key, next);
    return { done: true, previous };
  }
}
