import type { MiddlewareHandler } from "hono";
import { VerigateError } from "../../shared/errors/index.ts";
import type { AppEnv } from "../context.ts";
import { isLoopbackAddress, isLoopbackHost } from "./loopback.ts";

/**
 * Refuses to serve rather than guess: a misconfigured gateway answers 503 `misconfigured` on every route
 * mounted after this guard (all but /healthz), and the modes that give up a guarantee (`AUTH_MODE=off`,
 * `REPLAY_STORE=memory`) serve only requests from this machine, judged by the runtime's peer address (never
 * a header on Node) and by a loopback Host.
 */
export function refuseUnsafeConfig(): MiddlewareHandler<AppEnv> {
  return async function refuseUnsafeConfig(c, next) {
    const { config } = c.var;
    if (config.problems.length > 0) throw new VerigateError("misconfigured", config.problems.join(","));
    const loopbackOnly = config.authMode === "off" || config.replayStore === "memory";
    if (loopbackOnly) {
      const peer = c.var.clientAddress(c);
      const host = new URL(c.req.url).hostname;
      if (!isLoopbackAddress(peer) || !isLoopbackHost(host)) {
        throw new VerigateError("misconfigured", `${config.authMode}/${config.replayStore} serves this machine only; peer ${peer}, host ${host}`);
      }
    }
    return next();
  };
}
