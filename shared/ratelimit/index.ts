/**
 * Flood control. A limiter answers whether one more request under `key` fits in its budget; the gateway asks
 * per client address before doing any work and per keyid once a signature verified (never per claimed keyid
 * before that, or anyone could spend a victim key's budget with forged requests).
 */
export interface RateLimiter {
  readonly backend: "workers-ratelimit" | "memory";
  /** True when the request may proceed. Rejects when the limiter cannot answer. */
  allow(key: string): Promise<boolean>;
}

export interface RateLimits {
  perClient: RateLimiter;
  perKey: RateLimiter;
}
