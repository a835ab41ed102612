import { DurableObject } from "cloudflare:workers";
import { assertLockLimit, type CreateLockResult, type LfsLock, type LfsLockStore, type LockPage, type LockQuery, type RemoveLockResult } from "./locks.ts";

/**
 * The path is the primary key, so "one lock per path" is the table's own constraint and listing in path order (BINARY
 * collation: the bytes of the UTF-8) walks its b-tree; `id` is UNIQUE for its index, which unlock looks locks up by.
 */
const SCHEMA = "CREATE TABLE IF NOT EXISTS locks (path TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, locked_at TEXT NOT NULL) WITHOUT ROWID";

type LockRow = {
  path: string;
  id: string;
  owner: string;
  locked_at: string;
};

/**
 * The Git LFS locks of one repository on Workers: one object per repository (`idFromName(repo)`), SQLite storage
 * (docs/STORAGE.md "Git LFS locks"). Every method runs its SQL synchronously with no await in between, and an object
 * runs one such call at a time, so lock-if-free and unlock-if-owner are each atomic: of clients racing for one
 * path exactly one inserts its row.
 *
 * The table is created by the first `create`, not by the constructor, so listing a repository nobody locked in
 * writes nothing.
 */
export class LfsLocks extends DurableObject {
  create(lock: LfsLock): CreateLockResult {
    const sql = this.ctx.storage.sql;
    sql.exec(SCHEMA);
    // ON CONFLICT(path) only: an id collision (16 random bytes) throws rather than passing for a held path.
    const inserted = sql.exec(
      "INSERT INTO locks (path, id, owner, locked_at) VALUES (?, ?, ?, ?) ON CONFLICT(path) DO NOTHING RETURNING path",
      lock.path,
      lock.id,
      lock.owner.name,
      lock.locked_at,
    );
    if (inserted.toArray().length === 1) return { created: true, lock };
    const [existing] = sql.exec<LockRow>("SELECT path, id, owner, locked_at FROM locks WHERE path = ?", lock.path).toArray();
    return { created: false, existing: lockOf(existing!) };
  }

  list(query: LockQuery): LockPage {
    if (!this.#exists()) return { locks: [] };
    const conditions: string[] = [];
    const values: string[] = [];
    for (const [condition, value] of [
      ["path = ?", query.path],
      ["id = ?", query.id],
      ["path > ?", query.cursor],
    ] as const) {
      if (value === undefined) continue;
      conditions.push(condition);
      values.push(value);
    }
    const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
    // One row past the page says whether another page follows.
    const rows = this.ctx.storage.sql
      .exec<LockRow>(`SELECT path, id, owner, locked_at FROM locks ${where} ORDER BY path LIMIT ?`, ...values, query.limit + 1)
      .toArray();
    const locks = rows.slice(0, query.limit).map(lockOf);
    return { locks, ...(rows.length > query.limit ? { next_cursor: locks.at(-1)!.path } : {}) };
  }

  remove(id: string, owner: string, force: boolean): RemoveLockResult {
    if (!this.#exists()) return { missing: true };
    const [row] = this.ctx.storage.sql.exec<LockRow>("SELECT path, id, owner, locked_at FROM locks WHERE id = ?", id).toArray();
    if (!row) return { missing: true };
    const lock = lockOf(row);
    if (row.owner !== owner && !force) return { notOwner: lock };
    this.ctx.storage.sql.exec("DELETE FROM locks WHERE id = ?", id);
    return { removed: lock };
  }

  /** Whether any lock was ever taken here; reading the schema writes nothing. */
  #exists(): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'locks'").toArray().length === 1;
  }
}

function lockOf(row: LockRow): LfsLock {
  return { id: row.id, path: row.path, locked_at: row.locked_at, owner: { name: row.owner } };
}

/** The part of a Durable Object namespace binding this store uses; `Id` is whatever `idFromName` returns. */
export interface LfsLocksNamespace<Id> {
  idFromName(name: string): Id;
  get(id: Id): {
    create(lock: LfsLock): Promise<CreateLockResult>;
    list(query: LockQuery): Promise<LockPage>;
    remove(id: string, owner: string, force: boolean): Promise<RemoveLockResult>;
  };
}

/** Sends each call to the `LfsLocks` object of its repository over RPC; a stub error propagates and the request fails. */
export class DurableObjectLfsLockStore<Id> implements LfsLockStore {
  readonly backend = "durable-object" as const;
  readonly #namespace: LfsLocksNamespace<Id>;

  constructor(namespace: LfsLocksNamespace<Id>) {
    this.#namespace = namespace;
  }

  create(repo: string, lock: LfsLock): Promise<CreateLockResult> {
    return this.#object(repo).create(lock);
  }

  /**
   * The limit is checked here, before the call: a bad one never costs a round trip, and an error thrown inside the
   * object surfaced in the workerd test pool as an unhandled rejection besides failing the call.
   */
  async list(repo: string, query: LockQuery): Promise<LockPage> {
    assertLockLimit(query.limit);
    return this.#object(repo).list(query);
  }

  remove(repo: string, id: string, owner: string, force: boolean): Promise<RemoveLockResult> {
    return this.#object(repo).remove(id, owner, force);
  }

  #object(repo: string): ReturnType<LfsLocksNamespace<Id>["get"]> {
    return this.#namespace.get(this.#namespace.idFromName(repo));
  }
}
