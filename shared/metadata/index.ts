/**
 * The metadata store: small JSON records (key registry, manifests) addressed by string keys.
 * Every prefix a caller uses is listed in docs/STORAGE.md.
 *
 * Keys are up to MAX_METADATA_KEY_BYTES of UTF-8 and never contain a backslash (the KV backend uses one to mark
 * keys it had to shorten). A record that the gateway changes under a condition (an object's current manifest, a
 * tombstone) is written only through `swap`, so the backend that serialises swaps sees every change of it.
 */
export interface MetadataStore {
  readonly backend: MetadataBackendName;
  /**
   * True when two concurrent swaps of one key can never both find their condition holding; false for a
   * best-effort read-compare-write (plain KV), which the gateway only uses where nothing better exists.
   */
  readonly atomicSwap: boolean;
  get<T>(key: string): Promise<T | null>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys under `prefix` in lexicographic order, at most `limit`, continuing from an opaque `cursor`. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /**
   * Writes `next` at `key` (deletes it when `next` is null) if `condition` holds for the record there now, and
   * returns the record it replaced. Conditions compare tags: a record's tag is the string at its `tagField`
   * property (a manifest's `sha256`, its ETag), so records written before swaps existed have one too.
   */
  swap<T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string): Promise<SwapResult<T>>;
}

/** DynamoDB's sort key limit, the tightest of the backends (KV shortens longer keys itself). */
export const MAX_METADATA_KEY_BYTES = 1024;

export type SwapCondition =
  /** Unconditional. */
  | { kind: "any" }
  /** No record at the key. */
  | { kind: "absent" }
  /** Some record at the key. */
  | { kind: "present" }
  /** A record whose tag is `tag`. */
  | { kind: "tag"; tag: string };

export type SwapResult<T> = { done: true; previous: T | null } | { done: false };

export interface ListOptions {
  limit?: number;
  cursor?: string;
}

export interface ListPage {
  keys: string[];
  cursor: string | undefined;
}

export type MetadataBackendName = "kv" | "memory" | "dynamodb";

/** The tag of a stored record, or null when it has no string at `tagField` (no tag condition matches it). */
export function tagOf(record: unknown, tagField: string): string | null {
  const tag = typeof record === "object" && record !== null ? (record as Record<string, unknown>)[tagField] : undefined;
  return typeof tag === "string" ? tag : null;
}

/** Whether `condition` holds for `current`, the record at the key now (null when there is none). */
export function conditionHolds(condition: SwapCondition, current: unknown, tagField: string): boolean {
  switch (condition.kind) {
    case "any":
      return true;
    case "absent":
      return current === null;
    case "present":
      return current !== null;
    case "tag":
      return current !== null && tagOf(current, tagField) === condition.tag;
  }
}
