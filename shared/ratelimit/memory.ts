import type { RateLimiter } from "./index.ts";

/** Past this many tracked keys the oldest windows are dropped, so a spray of addresses cannot grow memory. */
const MAX_TRACKED_KEYS = 10_000;

/**
 * A fixed-window counter in one process: exact for a single Node server, per container on Lambda (where the
 * function's reserved concurrency is the outer bound). `clock` is injected so tests can cross windows.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly backend = "memory" as const;
  readonly #limit: number;
  readonly #periodMs: number;
  readonly #clock: () => number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(limit: number, periodSeconds: number, clock: () => number = Date.now) {
    this.#limit = limit;
    this.#periodMs = periodSeconds * 1000;
    this.#clock = clock;
  }

  async allow(key: string): Promise<boolean> {
    const now = this.#clock();
    const start = now - (now % this.#periodMs);
    let window = this.#windows.get(key);
    if (!window || window.start !== start) {
      this.#windows.delete(key);
      if (this.#windows.size >= MAX_TRACKED_KEYS) this.#windows.delete(this.#windows.keys().next().value as string);
      window = { start, count: 0 };
      this.#windows.set(key, window);
    }
    window.count++;
    return window.count <= this.#limit;
  }
}
