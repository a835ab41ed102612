import type { ClaimWindow, ReplayStore } from "./index.ts";

/** Workers KV refuses an `expirationTtl` below 60 seconds. */
const KV_MIN_TTL_SECONDS = 60;

const KEY_PREFIX = "replay:";

/** The part of a Workers KV binding this store uses. */
export interface ReplayKv {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
}

/**
 * Best-effort claims in Workers KV, used only when the operator sets `REPLAY_STORE=kv`.
 * KV is eventually consistent and has no compare-and-set, so two concurrent claims of one id,
 * above all from different locations, can both succeed: `atomic` is false and /healthz says so.
 * The value is the claim's expiry, because KV keeps a key at least 60 s: a key read past its
 * window is treated as free rather than trusting KV to have deleted it.
 */
export class KvReplayStore implements ReplayStore {
  readonly backend = "kv";
  readonly atomic = false;
  readonly #kv: ReplayKv;

  constructor(kv: ReplayKv) {
    this.#kv = kv;
  }

  async claim(id: string, { nowSeconds, expiresAtSeconds }: ClaimWindow): Promise<boolean> {
    const key = KEY_PREFIX + id;
    const existing = await this.#kv.get(key);
    // An unreadable value counts as held: failing closed costs one refused request, failing open a replay.
    if (existing !== null && !(Number(existing) < nowSeconds)) return false;
    const expirationTtl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(expiresAtSeconds - nowSeconds));
    await this.#kv.put(key, String(expiresAtSeconds), { expirationTtl });
    return true;
  }
}
