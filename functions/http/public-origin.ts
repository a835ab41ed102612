import type { Context } from "hono";
import type { AppEnv } from "../context.ts";

/**
 * The origin clients reach this gateway at, for URLs it hands out (gateway links, `lfs.url`): `PUBLIC_ORIGIN` when
 * set, since behind a proxy, custom domain or Function URL the request's own URL may name another scheme or host.
 */
export function publicOrigin(c: Context<AppEnv>): string {
  return c.var.config.publicOrigin ?? new URL(c.req.url).origin;
}
