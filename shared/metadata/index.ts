/**
 * The metadata store: small JSON records (key registry, manifests) addressed by string keys.
 * Every prefix a caller uses is listed in docs/STORAGE.md.
 */
export interface MetadataStore {
  readonly backend: MetadataBackendName;
  get<T>(key: string): Promise<T | null>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys under `prefix` in lexicographic order, at most `limit`, continuing from an opaque `cursor`. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
}

export interface ListOptions {
  limit?: number;
  cursor?: string;
}

export interface ListPage {
  keys: string[];
  cursor: string | undefined;
}

export type MetadataBackendName = "kv" | "memory" | "dynamodb";
