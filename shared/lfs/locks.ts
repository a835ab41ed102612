/**
 * Git LFS file locks (git-lfs docs/api/locking.md), one set per repository, held in a strongly consistent store:
 * a SQLite Durable Object per repository on Workers, conditional writes to DynamoDB on AWS. Two clients racing for
 * one path: exactly one `create` returns `created: true`.
 */

export interface LfsLock {
  id: string;
  path: string;
  /** RFC 3339. */
  locked_at: string;
  owner: { name: string };
}

export type CreateLockResult = { created: true; lock: LfsLock } | { created: false; existing: LfsLock };

export type RemoveLockResult = { removed: LfsLock } | { missing: true } | { notOwner: LfsLock };

export interface LockQuery {
  path?: string;
  id?: string;
  /** Opaque, from a previous page's `next_cursor`. */
  cursor?: string;
  limit: number;
}

export interface LockPage {
  locks: LfsLock[];
  next_cursor?: string;
}

export interface LfsLockStore {
  readonly backend: "durable-object" | "dynamodb" | "memory";
  /** Locks `path` for `owner` unless some lock holds it (whoever owns that one). */
  create(repo: string, lock: LfsLock): Promise<CreateLockResult>;
  /** Locks in path order, filtered by `path` or `id`. */
  list(repo: string, query: LockQuery): Promise<LockPage>;
  /** Removes lock `id` when `owner` holds it, or whoever holds it when `force`. */
  remove(repo: string, id: string, owner: string, force: boolean): Promise<RemoveLockResult>;
}
