import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

/** `/v1/lfs/tokens`: signed calls that mint, list and revoke LFS tokens (PROTOCOL section 8). */
export const lfsTokens = new Hono<AppEnv>();
