import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { lfsBatch } from "./lfs-batch.ts";
import { lfsLocks } from "./lfs-locks.ts";
import { lfsTransfers } from "./lfs-transfers.ts";

/**
 * Git LFS (PROTOCOL section 8) at `/lfs/{repo}/...`: the batch API and lock routes behind HTTP Basic with an LFS
 * token, and the transfer routes the batch API's actions point at, whose action token is their authority.
 */
export const lfs = new Hono<AppEnv>();
lfs.route("/", lfsBatch);
lfs.route("/", lfsTransfers);
lfs.route("/", lfsLocks);
