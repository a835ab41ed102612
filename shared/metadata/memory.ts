import { conditionHolds, type ListOptions, type ListPage, type MetadataStore, type SwapCondition, type SwapResult } from "./index.ts";

/** In-process metadata for tests and single-process local runs; values are cloned so callers cannot alias them. */
export class MemoryMetadataStore implements MetadataStore {
  readonly backend = "memory" as const;
  /** A swap reads, compares and writes without awaiting in between, so nothing interleaves with it. */
  readonly atomicSwap = true;
  readonly #entries = new Map<string, string>();

  async get<T>(key: string): Promise<T | null> {
    const value = this.#entries.get(key);
    return value === undefined ? null : (JSON.parse(value) as T);
  }

  async put(key: string, value: unknown): Promise<void> {
    this.#entries.set(key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  /** The cursor is the last key returned, so entries added or removed between pages do not shift the next page. */
  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const limit = options.limit ?? 1000;
    const after = options.cursor ?? "";
    const keys = [...this.#entries.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
    const page = keys.slice(0, limit);
    return { keys: page, cursor: keys.length > limit ? page.at(-1) : undefined };
  }

  async swap<T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string): Promise<SwapResult<T>> {
    const stored = this.#entries.get(key);
    const previous = stored === undefined ? null : (JSON.parse(stored) as T);
    if (!conditionHolds(condition, previous, tagField)) return { done: false };
    if (next === null) this.#entries.delete(key);
    else this.#entries.set(key, JSON.stringify(next));
    return { done: true, previous };
  }
}
