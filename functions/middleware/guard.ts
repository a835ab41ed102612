import type { MiddlewareHandler } from "hono";
import { VerigateError } from "../../shared/errors/index.ts";
import type { AppEnv } from "../context.ts";

/** Hostnames that can only be reached from the machine itself. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Refuses to serve rather than guess: a misconfigured gateway answers 503 `misconfigured` on every route but
 * /healthz, and the modes that give up a guarantee (`AUTH_MODE=off`, `REPLAY_STORE=memory`) serve loopback only.
 */
export function refuseUnsafeConfig(): MiddlewareHandler<AppEnv> {
  return async function refuseUnsafeConfig(c, next) {
    const { config } = c.var;
    if (c.req.path === "/healthz") return next();
    if (config.problems.length > 0) throw new VerigateError("misconfigured", config.problems.join(","));
    const loopbackOnly = config.authMode === "off" || config.replayStore === "memory";
    if (loopbackOnly && !isLoopbackHost(new URL(c.req.url).hostname)) {
      throw new VerigateError("misconfigured", `${config.authMode}/${config.replayStore} is for loopback hosts only`);
    }
    return next();
  };
}
