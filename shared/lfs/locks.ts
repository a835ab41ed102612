import { toHex, utf8 } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";

/**
 * Git LFS file locks (git-lfs docs/api/locking.md), one set per repository, held in a strongly consistent store:
 * a SQLite Durable Object per repository on Workers, conditional writes to DynamoDB on AWS. Two clients racing for
 * one path: exactly one `create` returns `created: true`. A lock's path, id and owner never change; it only goes.
 */

export interface LfsLock {
  id: string;
  path: string;
  /** RFC 3339, second precision, UTC (`2026-12-01T02:15:28Z`). */
  locked_at: string;
  owner: { name: string };
}

export type CreateLockResult = { created: true; lock: LfsLock } | { created: false; existing: LfsLock };

export type RemoveLockResult = { removed: LfsLock } | { missing: true } | { notOwner: LfsLock };

export interface LockQuery {
  path?: string;
  id?: string;
  /** The path of the previous page's last lock (its `next_cursor`): this page starts after it. */
  cursor?: string;
  limit: number;
}

export interface LockPage {
  locks: LfsLock[];
  /** Present exactly when more locks match: the path of this page's last lock. */
  next_cursor?: string;
}

export type LfsLockBackendName = "durable-object" | "dynamodb" | "memory";

export interface LfsLockStore {
  readonly backend: LfsLockBackendName;
  /** Locks `lock.path` unless some lock holds it (whoever owns that one), which is then returned. */
  create(repo: string, lock: LfsLock): Promise<CreateLockResult>;
  /**
   * The locks matching `path` and `id` (each when given) whose path sorts after `cursor`, in the byte order of the
   * paths' UTF-8 (the order of SQLite's BINARY collation and of DynamoDB's string sort keys), at most `limit`.
   */
  list(repo: string, query: LockQuery): Promise<LockPage>;
  /** Removes lock `id` when `owner` holds it, or whoever holds it when `force`. */
  remove(repo: string, id: string, owner: string, force: boolean): Promise<RemoveLockResult>;
}

/**
 * A lock path's most UTF-8 bytes: DynamoDB's sort key limit, where the path is the key. Git has no limit of its
 * own, but a working tree path that long fails on every common file system first (Linux PATH_MAX is 4,096 bytes
 * for the whole path, 255 per component).
 */
export const MAX_LOCK_PATH_BYTES = 1024;
/** The most locks one page holds, and the default (locking.md leaves both to the server). */
export const MAX_LOCK_PAGE = 100;
/** 16 random bytes: ids are unguessable, so an id from another repository's listing names nothing here. */
const LOCK_ID_BYTES = 16;
/** A lone surrogate: JSON can carry one, UTF-8 cannot, so the stores would each store something else. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Why `path` cannot be a lock path, or undefined when it can: 1..1,024 bytes of UTF-8, no NUL (git cannot name such
 * a file), not starting with `/` (locking.md: relative to the root of the working tree). The path is kept byte for
 * byte otherwise (no `./` or `\` folding), as git-lfs sends the path it will later look up.
 */
export function lockPathProblem(path: unknown): string | undefined {
  if (typeof path !== "string" || path.length === 0) return "path must be a non-empty string";
  if (LONE_SURROGATE.test(path)) return "path must be valid Unicode";
  if (path.includes("\0")) return "path must not contain NUL";
  if (path.startsWith("/")) return "path must be relative to the repository root (no leading /)";
  if (utf8(path).byteLength > MAX_LOCK_PATH_BYTES) return `path must be at most ${MAX_LOCK_PATH_BYTES} bytes of UTF-8`;
  return undefined;
}

/** Every store refuses a page size outside 1..MAX_LOCK_PAGE: the route bounds what clients ask for first. */
export function assertLockLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LOCK_PAGE)
    throw new VerigateError("internal", `lock page limit ${limit} outside 1..${MAX_LOCK_PAGE}`);
}

export function newLockId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(LOCK_ID_BYTES)));
}

/** A lock's `locked_at`: locking.md asks for RFC 3339 with second precision. */
export function lockedAt(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The byte order of the paths' UTF-8, in which every store lists (SQLite's BINARY collation, DynamoDB's string sort
 * keys); JavaScript's `<` compares UTF-16 code units, which orders U+FFFD after an emoji.
 */
export function compareLockPaths(a: string, b: string): number {
  const [left, right] = [utf8(a), utf8(b)];
  for (let at = 0; at < Math.min(left.length, right.length); at++) if (left[at] !== right[at]) return left[at]! - right[at]!;
  return left.length - right.length;
}
