import { SHARE, VerigateError } from "../errors/index.ts";

/**
 * Git LFS repositories and objects (PROTOCOL section 8). A repository is a scope: its objects live under the object
 * key prefix `lfs/<repo>/`, each at `lfs/<repo>/<oid>`, so the object machinery (manifests, chunk verification,
 * sweeps) serves LFS unchanged and a key's scopes say which repositories it may reach.
 */

/**
 * One path segment: a letter or digit, then letters, digits, `.`, `_`, `-`, at most 100 characters. One segment
 * keeps repositories from nesting: with `lfs/a/` a scope prefix, `a/b` could otherwise be a repository inside it.
 */
const REPO_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** An LFS object id: a SHA-256 in lowercase hex, checked before anything (a key, a path, a URL) is built from it. */
const OID_PATTERN = /^[0-9a-f]{64}$/;

export type LfsAccess = "read" | "write";

/** Who an LFS token speaks for, once Basic auth verified it (set as `c.var.lfs`). */
export interface LfsCaller {
  repo: string;
  access: LfsAccess;
  /** The LFS token's id. */
  tokenId: string;
  /** The lock owner's name: the keyid that minted the token. */
  owner: string;
}

export function isRepoName(name: string): boolean {
  return REPO_PATTERN.test(name) && !name.endsWith(".");
}

export function isOid(oid: unknown): oid is string {
  return typeof oid === "string" && OID_PATTERN.test(oid);
}

/** The repository name from a path, or `not_found`: a malformed name names no repository. */
export function parseRepo(name: string | undefined): string {
  if (name === undefined || !isRepoName(name)) throw new VerigateError("not_found", "malformed repository name", SHARE);
  return name;
}

/** The object key prefix holding `repo`'s objects; scopes over it decide who may mint tokens for it. */
export function lfsRepoPrefix(repo: string): string {
  return `lfs/${repo}/`;
}

/** The object key of `oid` in `repo`; both must already be validated. */
export function lfsObjectKey(repo: string, oid: string): string {
  return `${lfsRepoPrefix(repo)}${oid}`;
}
