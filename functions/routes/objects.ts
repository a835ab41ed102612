import { Hono, type Context } from "hono";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { type Principal, allows } from "../../shared/keys/index.ts";
import { deleteObject } from "../../shared/objects/delete.ts";
import { parseObjectKey } from "../../shared/objects/key.ts";
import { listObjects } from "../../shared/objects/list.ts";
import { putResponseBody, readCurrent } from "../../shared/objects/manifest.ts";
import { putObject } from "../../shared/objects/upload.ts";
import { splitUrl } from "../../shared/signature/index.ts";
import type { AppEnv } from "../context.ts";
import { authorize, requirePrincipal } from "../middleware/authorize.ts";
import { signedDigest } from "../middleware/body.ts";
import { declaredLength } from "../http/declared-length.ts";
import { serveManifest } from "../http/serve.ts";

const ROUTE_PREFIX = "/v1/objects/";

/** The object key from the raw request target: decoded exactly once, then checked (PROTOCOL section 3). */
function objectKey(c: Context<AppEnv>): string {
  const { path } = splitUrl(c.req.url);
  return parseObjectKey(path.slice(ROUTE_PREFIX.length));
}

/** `/v1/objects`: verified uploads, verified downloads, delete and list, each within the caller's scopes. */
export const objects = new Hono<AppEnv>()
  .get("/", async (c) => {
    const principal = requirePrincipal(c);
    const prefix = listablePrefix(principal, c.req.query("prefix") ?? "");
    const limit = c.req.query("limit");
    if (limit !== undefined && !/^\d{1,4}$/.test(limit)) throw new VerigateError("bad_request", "limit must be a whole number from 1 to 1000", SHARE);
    const page = await listObjects(c.var, {
      prefix,
      limit: limit === undefined ? undefined : Number(limit),
      cursor: c.req.query("cursor"),
      allowed: (key) => allows(principal, "list", key),
    });
    return c.json(page);
  })
  .put("/*", async (c) => {
    const key = objectKey(c);
    const principal = authorize(c, "write", key);
    const ifNoneMatch = c.req.header("if-none-match");
    if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*") throw new VerigateError("bad_request", "PUT takes only If-None-Match: *", SHARE);
    const { config } = c.var;
    const manifest = await putObject(c.var, {
      key,
      body: c.req.raw.body,
      length: declaredLength(c),
      expectedSha256: signedDigest(c.req.raw),
      contentType: c.req.header("content-type"),
      keyid: principal.keyid,
      chunkSize: config.chunkSizeBytes,
      maxObjectBytes: config.maxObjectBytes,
      ifNoneMatch: ifNoneMatch !== undefined,
      ifMatch: c.req.header("if-match"),
      requestId: c.var.requestId,
    });
    c.var.log.log("info", "object_put", { request_id: c.var.requestId, key, version: manifest.version, size: manifest.size, keyid: principal.keyid });
    return c.json(putResponseBody(manifest), 201);
  })
  .on(["GET", "HEAD"], "/*", async (c) => {
    const key = objectKey(c);
    authorize(c, "read", key);
    const manifest = await readCurrent(c.var, key);
    if (!manifest) throw new VerigateError("not_found");
    return serveManifest(c, manifest);
  })
  .delete("/*", async (c) => {
    const key = objectKey(c);
    const principal = authorize(c, "delete", key);
    const removed = await deleteObject(c.var, key);
    c.var.log.log("info", "object_deleted", { request_id: c.var.requestId, key, version: removed.version, keyid: principal.keyid });
    return c.body(null, 204);
  });

/**
 * The prefix actually listed. When a list scope covers the requested prefix it is listed as asked; when the
 * request is broader than the caller's one list scope under it, the listing narrows to that scope. Listing
 * only keys the caller may see matters beyond filtering: a store's cursor can name the last key it read
 * (DynamoDB's does), which must never be a key outside the caller's scopes. A prefix spanning several
 * scopes is refused rather than paged across scopes with such cursors.
 */
function listablePrefix(principal: Principal, requested: string): string {
  const listScopes = principal.scopes.filter((scope) => scope.actions.includes("list")).map((scope) => scope.prefix);
  if (listScopes.some((prefix) => requested.startsWith(prefix))) return requested;
  const under = listScopes.filter((prefix) => prefix.startsWith(requested));
  const outermost = [...new Set(under)].filter((prefix) => !under.some((other) => other !== prefix && prefix.startsWith(other)));
  if (outermost.length === 0) throw new VerigateError("forbidden", `key ${principal.keyid} may not list ${requested}`, SHARE);
  if (outermost.length > 1) throw new VerigateError("bad_request", `prefix ${requested} spans several list scopes; list each scope's prefix`, SHARE);
  return outermost[0] as string;
}
