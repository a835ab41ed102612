import { Hono } from "hono";
import { readRewrapState, rewrapProgress, rewrapSlice } from "../../shared/objects/rewrap.ts";
import type { AppEnv } from "../context.ts";
import { adminOnly } from "../middleware/authorize.ts";
import { jsonBodyLimit, readVerifiedJson } from "../middleware/body.ts";

/**
 * `/v1/admin/encryption/rewrap` (PROTOCOL section 5, "Encryption key rotation"), admin keys only. `POST` starts a
 * pass, or resumes the unfinished one, and does one bounded slice of it; `GET` answers the progress without working.
 */
export const adminEncryption = new Hono<AppEnv>()
  .use(adminOnly())
  // The body is `{}`: a POST's signature covers a Content-Digest, so it has one, and nothing in it is read yet.
  .post("/rewrap", jsonBodyLimit, async (c) => {
    await readVerifiedJson(c.req.raw);
    const state = await rewrapSlice(c.var, { start: true, requestId: c.var.requestId });
    const progress = rewrapProgress(state);
    c.var.log.log("info", "rewrap_slice", { request_id: c.var.requestId, by: c.var.principal?.keyid, ...progress });
    return c.json(progress);
  })
  .get("/rewrap", async (c) => c.json(rewrapProgress(await readRewrapState(c.var))));
