/**
 * The metadata store: small JSON records (key registry, manifests) addressed by string keys.
 * Every prefix a caller uses is listed in docs/STORAGE.md.
 *
 * Keys are up to MAX_METADATA_KEY_BYTES of UTF-8 and never contain a backslash (the KV backend uses one to mark
 * keys it had to shorten).
 */
export interface MetadataStore {
  readonly backend: MetadataBackendName;
  get<T>(key: string): Promise<T | null>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys under `prefix` in lexicographic order, at most `limit`, continuing from an opaque `cursor`. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
}

/** DynamoDB's sort key limit, the tightest of the backends (KV shortens longer keys itself). */
export const MAX_METADATA_KEY_BYTES = 1024;

export interface ListOptions {
  limit?: number;
  cursor?: string;
}

export interface ListPage {
  keys: string[];
  cursor: string | undefined;
}

export type MetadataBackendName = "kv" | "memory" | "dynamodb";
