import type { Context, MiddlewareHandler } from "hono";
import { VerigateError } from "../../shared/errors/index.ts";
import { describeError } from "../../shared/log.ts";
import type { RateLimiter } from "../../shared/ratelimit/index.ts";
import type { AppEnv } from "../context.ts";

/** Both limiters count per minute or less, so a refused client may retry after this long. */
const RETRY_AFTER_SECONDS = 60;

/**
 * Asks `limiter` about `key` and answers 429 `rate_limited` when over budget. A limiter that cannot answer
 * lets the request through with an error log: flood control must not turn its own outage into one.
 */
export async function enforceLimit(c: Context<AppEnv>, limiter: RateLimiter | undefined, key: string): Promise<void> {
  if (!limiter) return;
  let allowed: boolean;
  try {
    allowed = await limiter.allow(key);
  } catch (error) {
    c.var.log.log("error", "rate_limiter_unavailable", { request_id: c.var.requestId, ...describeError(error) });
    return;
  }
  if (!allowed) {
    c.header("Retry-After", String(RETRY_AFTER_SECONDS));
    throw new VerigateError("rate_limited", key);
  }
}

/** Per client address, before any signature work, so junk floods are cut cheaply; /healthz is mounted before it. */
export function limitClients(): MiddlewareHandler<AppEnv> {
  return async function limitClients(c, next) {
    await enforceLimit(c, c.var.limits?.perClient, `client:${c.var.clientAddress(c)}`);
    return next();
  };
}
