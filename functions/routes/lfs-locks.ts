import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

/** Git LFS file locking (git-lfs docs/api/locking.md) at `/lfs/{repo}/locks...`, mounted by lfs.ts. */
export const lfsLocks = new Hono<AppEnv>();
