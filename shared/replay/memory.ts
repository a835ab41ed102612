import type { ClaimWindow, ReplayStore } from "./index.ts";

/** A sweep walks every entry, so it runs once per this many claims: amortised O(1) per claim. */
const SWEEP_EVERY_CLAIMS = 1024;

/**
 * Claims held in this isolate's memory. For loopback and development only (the config layer refuses it
 * elsewhere): every isolate has its own map, and a restart forgets every claim.
 * Atomic within one isolate because the check and the write happen with no await between them.
 * Memory stays bounded by the live claims plus at most one sweep interval of expired ones.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly backend = "memory";
  readonly atomic = true;
  readonly #expiresAtSeconds = new Map<string, number>();
  #claimsSinceSweep = 0;

  claim(id: string, { nowSeconds, expiresAtSeconds }: ClaimWindow): Promise<boolean> {
    if (++this.#claimsSinceSweep >= SWEEP_EVERY_CLAIMS) this.#sweep(nowSeconds);
    const heldUntil = this.#expiresAtSeconds.get(id);
    if (heldUntil !== undefined && heldUntil >= nowSeconds) return Promise.resolve(false);
    this.#expiresAtSeconds.set(id, expiresAtSeconds);
    return Promise.resolve(true);
  }

  #sweep(nowSeconds: number): void {
    this.#claimsSinceSweep = 0;
    for (const [id, heldUntil] of this.#expiresAtSeconds) {
      if (heldUntil < nowSeconds) this.#expiresAtSeconds.delete(id);
    }
  }
}
