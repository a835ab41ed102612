import type { ListOptions, ListPage, MetadataStore } from "./index.ts";

/** The subset of the Workers KV binding this backend uses; declared here so `shared/` needs no vendor types. */
export interface KvNamespaceLike {
  get(key: string, type: "json"): Promise<unknown>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: { prefix: string; limit?: number; cursor?: string }): Promise<{
    keys: { name: string }[];
    list_complete: boolean;
    cursor?: string;
  }>;
}

/** KV's own page size cap; asking for more is an error. */
const KV_MAX_LIST_LIMIT = 1000;

/**
 * Metadata in Workers KV. KV is eventually consistent across locations (about 60 s), which is why blobs are
 * deleted only after a grace period and why replay protection does not live here.
 */
export class KvMetadataStore implements MetadataStore {
  readonly backend = "kv" as const;
  readonly #kv: KvNamespaceLike;

  constructor(kv: KvNamespaceLike) {
    this.#kv = kv;
  }

  async get<T>(key: string): Promise<T | null> {
    return (await this.#kv.get(key, "json")) as T | null;
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.#kv.put(key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    await this.#kv.delete(key);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const limit = Math.min(options.limit ?? KV_MAX_LIST_LIMIT, KV_MAX_LIST_LIMIT);
    const page = await this.#kv.list({ prefix, limit, ...(options.cursor ? { cursor: options.cursor } : {}) });
    return {
      keys: page.keys.map((entry) => entry.name),
      cursor: page.list_complete ? undefined : page.cursor,
    };
  }
}
