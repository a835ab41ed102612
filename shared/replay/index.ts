/**
 * The replay store: remembers which (keyid, nonce) pairs and single-use links were already used.
 * A claim must be atomic for the guarantee "accepted once" to hold under concurrency; a backend that
 * cannot compare-and-set says so with `atomic: false` and is only used when the operator chooses it.
 */
export interface ReplayStore {
  readonly backend: ReplayBackendName;
  /** True when two concurrent claims of one id can never both succeed. */
  readonly atomic: boolean;
  /**
   * Claims `id` until `expiresAtSeconds` (epoch seconds). Resolves true when this call claimed it,
   * false when an unexpired claim already exists. Rejects when the store cannot answer: callers fail closed.
   */
  claim(id: string, window: ClaimWindow): Promise<boolean>;
}

export interface ClaimWindow {
  /** The caller's clock, epoch seconds: an existing claim older than this is treated as free. */
  nowSeconds: number;
  /** When the claim may be forgotten, epoch seconds; after it the signature can no longer be fresh. */
  expiresAtSeconds: number;
}

export type ReplayBackendName = "durable-object" | "kv" | "memory" | "dynamodb";
