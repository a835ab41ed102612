import type { Context, MiddlewareHandler } from "hono";
import { fromBase64 } from "../../shared/crypto/encoding.ts";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { KeyRegistry } from "../../shared/keys/registry.ts";
import { parseRepo, type LfsCaller } from "../../shared/lfs/repo.ts";
import { lfsTokenCaller } from "../../shared/lfs/tokens.ts";
import type { AppEnv } from "../context.ts";

/** `Basic` then the base64 of `user:password`; the scheme name is case-insensitive (RFC 9110 section 11.1). */
const BASIC_CREDENTIALS = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i;

/**
 * The password of an HTTP Basic `Authorization` header (RFC 7617), or null when there is none or it is malformed.
 * The user name is ignored: git-lfs sends whatever the credential helper or `lfs.url` holds, and the token alone
 * names its minting key.
 */
function basicPassword(header: string | undefined): string | null {
  const match = header === undefined ? null : BASIC_CREDENTIALS.exec(header);
  if (!match) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(fromBase64(match[1] ?? ""));
  } catch {
    return null;
  }
  const colon = text.indexOf(":");
  return colon < 0 ? null : text.slice(colon + 1);
}

/**
 * Authenticates a Git LFS request to `/lfs/:repo/...` by HTTP Basic with an LFS token as the password, and sets
 * `c.var.lfs`. Every failure is the same 401 `unauthorized` with no detail for the client (the log names the
 * repository), so a caller learns nothing about which tokens exist; the error handler adds `LFS-Authenticate`.
 */
export function lfsBasicAuth(): MiddlewareHandler<AppEnv> {
  return async function lfsBasicAuth(c, next) {
    const repo = parseRepo(c.req.param("repo"));
    const password = basicPassword(c.req.header("authorization"));
    if (password === null) throw new VerigateError("unauthorized", "no HTTP Basic credentials");
    const { metadata, config, clock } = c.var;
    const caller = await lfsTokenCaller(metadata, new KeyRegistry(metadata, config.adminKeys), password, repo, clock());
    if (!caller) throw new VerigateError("unauthorized", `the LFS token is not valid for repository ${repo}`);
    c.set("lfs", caller);
    return next();
  };
}

/** The LFS caller set by `lfsBasicAuth`; its absence means a route was mounted outside that middleware. */
export function requireLfsCaller(c: Context<AppEnv>): LfsCaller {
  const caller = c.var.lfs;
  if (!caller) throw new VerigateError("internal", "LFS route reached without LFS authentication");
  return caller;
}

/** The LFS caller when its token may write (upload, lock); a read token is 403 `forbidden`. */
export function requireLfsWrite(c: Context<AppEnv>): LfsCaller {
  const caller = requireLfsCaller(c);
  if (caller.access !== "write") throw new VerigateError("forbidden", "this LFS token is read-only", SHARE);
  return caller;
}
