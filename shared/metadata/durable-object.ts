import { DurableObject } from "cloudflare:workers";
import { sha256Hex } from "../crypto/encoding.ts";
import { ShardNames } from "../shards.ts";
import { conditionHolds, type SwapCondition, type SwapResult } from "./index.ts";
import { KvMetadataStore, type SwapAuthority } from "./kv-binding.ts";

/**
 * Swaps are far rarer than signed requests (one per PUT or DELETE), but a burst of uploads to many keys should
 * not queue on one single-threaded object: 64 shards, as for replay claims. Changing the count moves keys to
 * shards that do not know them yet; each learns a key from KV on first sight, which is exact only once KV has
 * settled (about 60 s without swaps of that key).
 */
export const COMMIT_SHARD_COUNT = 64;

type StoredRecord = Record<string, unknown>;

/**
 * The strongly consistent authority on the records the gateway swaps (current manifests, tombstones) on
 * Workers, where KV has no compare-and-set. Each key lives in one shard, whose table holds what KV should now
 * hold for it (`value` NULL: known absent). A swap checks its condition against that row, writes KV, then the
 * row, and answers with the row it replaced. Readers keep reading KV.
 *
 * A KV write is I/O, during which the object takes other requests (its input gate opens), so swaps of one key
 * wait for each other on a promise chain; swaps of different keys run side by side. A key the table has not
 * seen (written before this authority existed) is learned from KV first. When a KV write fails, whether it
 * landed is unknown: the row is dropped, so the next swap learns the key from KV again.
 */
export class CommitShard extends DurableObject<{ META: ConstructorParameters<typeof KvMetadataStore>[0] }> {
  readonly #kv: KvMetadataStore;
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(ctx: DurableObjectState, env: { META: ConstructorParameters<typeof KvMetadataStore>[0] }) {
    super(ctx, env);
    this.#kv = new KvMetadataStore(env.META);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value TEXT)");
  }

  swap(key: string, next: StoredRecord | null, condition: SwapCondition, tagField: string): Promise<SwapResult<StoredRecord>> {
    return this.#serially(key, () => this.#swapNow(key, next, condition, tagField));
  }

  async #swapNow(key: string, next: StoredRecord | null, condition: SwapCondition, tagField: string): Promise<SwapResult<StoredRecord>> {
    const previous = await this.#current(key);
    if (!conditionHolds(condition, previous, tagField)) return { done: false };
    try {
      if (next === null) await this.#kv.delete(key);
      else await this.#kv.put(key, next);
    } catch (error) {
      this.ctx.storage.sql.exec("DELETE FROM records WHERE key = ?", key);
      throw error;
    }
    this.#remember(key, next);
    return { done: true, previous };
  }

  async #current(key: string): Promise<StoredRecord | null> {
    const [row] = this.ctx.storage.sql.exec<{ value: string | null }>("SELECT value FROM records WHERE key = ?", key).toArray();
    if (row) return row.value === null ? null : (JSON.parse(row.value) as StoredRecord);
    const learned = await this.#kv.get<StoredRecord>(key);
    this.#remember(key, learned);
    return learned;
  }

  #remember(key: string, value: StoredRecord | null): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO records (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      value === null ? null : JSON.stringify(value),
    );
  }

  /** Runs `task` after every earlier task of `key` settled; the chain is dropped once it is idle. */
  #serially<R>(key: string, task: () => Promise<R>): Promise<R> {
    const run = (this.#chains.get(key) ?? Promise.resolve()).then(task);
    const settled = run.catch(() => undefined);
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return run;
  }
}

/** The part of a Durable Object namespace binding this authority uses; `Id` is whatever `idFromName` returns. */
export interface CommitShardNamespace<Id> {
  idFromName(name: string): Id;
  get(id: Id): { swap(key: string, next: StoredRecord | null, condition: SwapCondition, tagField: string): Promise<SwapResult<StoredRecord>> };
}

/** Sends each swap to the `CommitShard` of its key. A stub error propagates: the request fails, nothing is assumed. */
export class DurableObjectSwapAuthority<Id> implements SwapAuthority {
  readonly #namespace: CommitShardNamespace<Id>;
  readonly #shards: ShardNames;

  constructor(namespace: CommitShardNamespace<Id>, shardCount = COMMIT_SHARD_COUNT) {
    this.#namespace = namespace;
    this.#shards = new ShardNames("commit-shard", shardCount);
  }

  async swap<T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string): Promise<SwapResult<T>> {
    const stub = this.#namespace.get(this.#namespace.idFromName(this.#shards.of(await sha256Hex(key))));
    return (await stub.swap(key, next as StoredRecord | null, condition, tagField)) as SwapResult<T>;
  }
}
