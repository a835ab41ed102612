import {
  assertLockLimit,
  compareLockPaths,
  type CreateLockResult,
  type LfsLock,
  type LfsLockStore,
  type LockPage,
  type LockQuery,
  type RemoveLockResult,
} from "./locks.ts";

/** Locks in process memory, for tests and single-process local runs; records are cloned so callers cannot alias them. */
export class MemoryLfsLockStore implements LfsLockStore {
  readonly backend = "memory" as const;
  readonly #repos = new Map<string, Map<string, LfsLock>>();

  #locks(repo: string): Map<string, LfsLock> {
    let locks = this.#repos.get(repo);
    if (!locks) this.#repos.set(repo, (locks = new Map()));
    return locks;
  }

  async create(repo: string, lock: LfsLock): Promise<CreateLockResult> {
    const locks = this.#locks(repo);
    const existing = locks.get(lock.path);
    if (existing) return { created: false, existing: structuredClone(existing) };
    locks.set(lock.path, structuredClone(lock));
    return { created: true, lock: structuredClone(lock) };
  }

  async list(repo: string, query: LockQuery): Promise<LockPage> {
    assertLockLimit(query.limit);
    const { cursor } = query;
    const matching = [...this.#locks(repo).values()]
      .filter((lock) => (query.path === undefined || lock.path === query.path) && (query.id === undefined || lock.id === query.id))
      .filter((lock) => cursor === undefined || compareLockPaths(lock.path, cursor) > 0)
      .sort((a, b) => compareLockPaths(a.path, b.path));
    const page = matching.slice(0, query.limit);
    return { locks: structuredClone(page), ...(matching.length > page.length ? { next_cursor: page.at(-1)!.path } : {}) };
  }

  async remove(repo: string, id: string, owner: string, force: boolean): Promise<RemoveLockResult> {
    const locks = this.#locks(repo);
    const lock = [...locks.values()].find((candidate) => candidate.id === id);
    if (!lock) return { missing: true };
    if (lock.owner.name !== owner && !force) return { notOwner: structuredClone(lock) };
    locks.delete(lock.path);
    return { removed: structuredClone(lock) };
  }
}
