import { DurableObject } from "cloudflare:workers";
import { VerigateError } from "../errors/index.ts";
import { ShardNames } from "../shards.ts";
import type { ClaimWindow, ReplayStore } from "./index.ts";

/**
 * Each Durable Object instance is single-threaded (roughly 1,000 simple requests per second), and one
 * signed request costs one claim; 64 shards spread a burst across 64 objects. Changing the count moves
 * ids to other shards, so claims made before the change are forgotten until their windows end.
 */
export const REPLAY_SHARD_COUNT = 64;

/**
 * About one signature freshness window (MAX_SIGNATURE_AGE_SECONDS defaults to 300): an expired row
 * lingers at most one more interval, for one alarm per busy shard every five minutes.
 */
const PURGE_INTERVAL_MS = 5 * 60 * 1000;

const CLAIM_ID = /^[0-9a-f]{64}$/;

/**
 * One shard of the replay store. The SQL statement that claims runs synchronously inside a
 * single-threaded object, so two claims of one id can never both see it free.
 * No index on `expires_at`: the purge scans the table once per interval, where an index would cost
 * a write on every claim.
 */
export class ReplayShard extends DurableObject {
  #purgeArmed = false;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
      this.#purgeArmed = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /** True when this call claimed `id`; a row whose expiry is before `nowSeconds` counts as free and is replaced. */
  async claim(id: string, nowSeconds: number, expiresAtSeconds: number): Promise<boolean> {
    const claimed =
      this.ctx.storage.sql
        .exec(
          `INSERT INTO claims (id, expires_at) VALUES (?, ?)
           ON CONFLICT(id) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at < ?
           RETURNING id`,
          id,
          expiresAtSeconds,
          nowSeconds,
        )
        .toArray().length === 1;
    if (claimed && !this.#purgeArmed) {
      this.#purgeArmed = true;
      await this.ctx.storage.setAlarm(Date.now() + PURGE_INTERVAL_MS);
    }
    return claimed;
  }

  /** Purges by the object's own clock; stays asleep once the table is empty until the next claim re-arms it. */
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM claims WHERE expires_at < ?", Math.floor(Date.now() / 1000));
    if (sql.exec("SELECT 1 FROM claims LIMIT 1").toArray().length > 0) {
      await this.ctx.storage.setAlarm(Date.now() + PURGE_INTERVAL_MS);
    } else {
      this.#purgeArmed = false;
    }
  }
}

/** The part of a Durable Object namespace binding this store uses; `Id` is whatever `idFromName` returns. */
export interface ReplayShardNamespace<Id> {
  idFromName(name: string): Id;
  get(id: Id): { claim(id: string, nowSeconds: number, expiresAtSeconds: number): Promise<boolean> };
}

/**
 * The atomic replay store of the Workers runtime: each id always lands on the same `ReplayShard`,
 * picked from its leading hex digits (ids are sha256 digests, so uniformly spread).
 * A stub error propagates: the caller answers 503 `replay_store_unavailable` (fail closed).
 */
export class DurableObjectReplayStore<Id> implements ReplayStore {
  readonly backend = "durable-object";
  readonly atomic = true;
  readonly #namespace: ReplayShardNamespace<Id>;
  readonly #shards: ShardNames;

  constructor(namespace: ReplayShardNamespace<Id>, shardCount = REPLAY_SHARD_COUNT) {
    this.#namespace = namespace;
    this.#shards = new ShardNames("replay-shard", shardCount);
  }

  claim(id: string, { nowSeconds, expiresAtSeconds }: ClaimWindow): Promise<boolean> {
    if (!CLAIM_ID.test(id)) {
      return Promise.reject(new VerigateError("internal", "replay claim id is not a lowercase sha256 hex digest"));
    }
    const stub = this.#namespace.get(this.#namespace.idFromName(this.#shards.of(id)));
    return stub.claim(id, nowSeconds, expiresAtSeconds);
  }
}
