import type { CreateLockResult, LfsLock, LfsLockStore, LockPage, LockQuery, RemoveLockResult } from "./locks.ts";

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
    const all = [...this.#locks(repo).values()]
      .filter((lock) => (query.path === undefined || lock.path === query.path) && (query.id === undefined || lock.id === query.id))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const start = query.cursor ? all.findIndex((lock) => lock.path > (query.cursor as string)) : 0;
    const page = start < 0 ? [] : all.slice(start, start + query.limit);
    const more = start >= 0 && start + query.limit < all.length;
    return { locks: structuredClone(page), ...(more ? { next_cursor: page[page.length - 1]!.path } : {}) };
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
