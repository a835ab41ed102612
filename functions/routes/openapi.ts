import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { OPENAPI_DOCUMENT } from "../openapi-document.ts";

/** `GET /openapi.json`: no auth, mounted beside /healthz, so a client can read the contract from any gateway. */
export const openapi = new Hono<AppEnv>().get("/", (c) => c.json(OPENAPI_DOCUMENT));
