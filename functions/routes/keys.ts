import { Hono } from "hono";
import { VerigateError } from "../../shared/errors/index.ts";
import { KeyRegistry, publicView } from "../../shared/keys/registry.ts";
import type { AppEnv } from "../context.ts";
import { adminOnly } from "../middleware/authorize.ts";
import { jsonBodyLimit, readVerifiedJson } from "../middleware/body.ts";

const registry = (c: { var: AppEnv["Variables"] }) => new KeyRegistry(c.var.metadata, c.var.config.adminKeys);

/** `/v1/keys`: the admin key registry (PROTOCOL section 5). */
export const keys = new Hono<AppEnv>()
  .use(adminOnly())
  .post("/", jsonBodyLimit, async (c) => {
    const input = await readVerifiedJson(c.req.raw);
    const record = await registry(c).create(input, c.var.clock());
    c.var.log.log("info", "key_created", { request_id: c.var.requestId, keyid: record.keyid, by: c.var.principal?.keyid });
    // The HMAC secret is in this response only; it is never returned again.
    return c.json(record, 201);
  })
  .get("/", async (c) => c.json({ keys: (await registry(c).list()).map(publicView) }))
  .get("/:keyid", async (c) => {
    const record = await registry(c).find(c.req.param("keyid"));
    if (!record) throw new VerigateError("not_found");
    return c.json(publicView(record));
  })
  .delete("/:keyid", async (c) => {
    const keyid = c.req.param("keyid");
    if (!(await registry(c).revoke(keyid))) throw new VerigateError("not_found");
    c.var.log.log("info", "key_revoked", { request_id: c.var.requestId, keyid, by: c.var.principal?.keyid });
    return c.body(null, 204);
  });
