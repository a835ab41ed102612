import type { RateLimiter } from "./index.ts";

/** The subset of the Workers Rate Limiting binding used here; its limit and period live in wrangler.toml. */
export interface RateLimitBindingLike {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/**
 * Cloudflare's rate limiting binding: counters are per Cloudflare location and eventually consistent,
 * which suits flood control (a burst is cut within the location it hits) but is not an exact quota.
 */
export class WorkersRateLimiter implements RateLimiter {
  readonly backend = "workers-ratelimit" as const;
  readonly #binding: RateLimitBindingLike;

  constructor(binding: RateLimitBindingLike) {
    this.#binding = binding;
  }

  async allow(key: string): Promise<boolean> {
    return (await this.#binding.limit({ key })).success;
  }
}
