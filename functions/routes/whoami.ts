import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { requirePrincipal } from "../middleware/authorize.ts";

/** `GET /v1/whoami`: any valid signature; lets a client check its clock, key and signing code at once. */
export const whoami = new Hono<AppEnv>().get("/", (c) => {
  const principal = requirePrincipal(c);
  return c.json({ keyid: principal.keyid, alg: principal.alg, scopes: principal.scopes, admin: principal.admin });
});
