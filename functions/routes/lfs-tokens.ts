import { Hono } from "hono";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { isRepoName } from "../../shared/lfs/repo.ts";
import { lfsTokenView, listLfsTokens, mintLfsToken, parseLfsTokenRequest, revokeLfsToken } from "../../shared/lfs/tokens.ts";
import type { AppEnv } from "../context.ts";
import { publicOrigin } from "../http/public-origin.ts";
import { requirePrincipal } from "../middleware/authorize.ts";
import { jsonBodyLimit, readVerifiedJson } from "../middleware/body.ts";

/** `/v1/lfs/tokens`: signed calls that mint, list and revoke LFS tokens (PROTOCOL section 8, "Tokens"). */
export const lfsTokens = new Hono<AppEnv>()
  .post("/", jsonBodyLimit, async (c) => {
    const request = parseLfsTokenRequest(await readVerifiedJson(c.req.raw));
    const principal = requirePrincipal(c);
    const { record, token } = await mintLfsToken(c.var.metadata, principal, request, c.var.clock());
    c.var.log.log("info", "lfs_token_created", {
      request_id: c.var.requestId,
      token_id: record.id,
      repo: record.repo,
      access: record.access,
      keyid: principal.keyid,
    });
    // What `git config lfs.url` takes: the client appends /objects/batch and /locks itself.
    const lfsUrl = `${publicOrigin(c)}/lfs/${record.repo}`;
    // The token is in this response only; the gateway keeps its secret's hash.
    const { id, ...rest } = lfsTokenView(record);
    return c.json({ id, token, ...rest, lfs_url: lfsUrl }, 201);
  })
  .get("/", async (c) => {
    const repo = c.req.query("repo");
    if (repo !== undefined && !isRepoName(repo)) throw new VerigateError("bad_request", "repo is not a repository name", SHARE);
    const tokens = await listLfsTokens(c.var.metadata, requirePrincipal(c), repo);
    return c.json({ tokens });
  })
  .delete("/:id", async (c) => {
    const principal = requirePrincipal(c);
    const revoked = await revokeLfsToken(c.var.metadata, principal, c.req.param("id"));
    if (!revoked) throw new VerigateError("not_found");
    c.var.log.log("info", "lfs_token_revoked", { request_id: c.var.requestId, token_id: revoked.id, repo: revoked.repo, by: principal.keyid });
    return c.body(null, 204);
  });
