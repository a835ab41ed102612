import type { ListOptions, ListPage, MetadataStore } from "./index.ts";
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

/** KV's own page size cap; asking for more is an error. */
const KV_MAX_LIST_LIMIT = 1000;

/**
 * Metadata in Workers KV. KV is eventually consistent across locations (about 60 s), which is why blobs are
 * deleted only after a grace period and why replay protection does not live here. Keys longer than KV allows
 * are renamed (kv-names.ts).
 */
export class KvMetadataStore implements MetadataStore {
  readonly backend = "kv" as const;
  readonly #kv: KvNamespaceLike;

  constructor(kv: KvNamespaceLike) {
    this.#kv = kv;
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
}
