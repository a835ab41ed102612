import type { Context, MiddlewareHandler } from "hono";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { type Action, type Principal, allows } from "../../shared/keys/index.ts";
import type { AppEnv } from "../context.ts";

/** The caller set by `signedRequests`; its absence means a route was mounted outside the auth middleware. */
export function requirePrincipal(c: Context<AppEnv>): Principal {
  const principal = c.var.principal;
  if (!principal) throw new VerigateError("internal", "route reached without authentication");
  return principal;
}

/** Authorization runs after authentication and the nonce claim, as PROTOCOL section 1 orders. */
export function authorize(c: Context<AppEnv>, action: Action, key: string): Principal {
  const principal = requirePrincipal(c);
  if (!allows(principal, action, key)) throw new VerigateError("forbidden", `key ${principal.keyid} may not ${action} ${key}`, SHARE);
  return principal;
}

export function adminOnly(): MiddlewareHandler<AppEnv> {
  return async function adminOnly(c, next) {
    const principal = requirePrincipal(c);
    if (!principal.admin) throw new VerigateError("forbidden", `key ${principal.keyid} is not an admin key`, SHARE);
    return next();
  };
}
