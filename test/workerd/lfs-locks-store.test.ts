import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DurableObjectLfsLockStore } from "../../shared/lfs/locks-durable-object.ts";
import { MemoryLfsLockStore } from "../../shared/lfs/locks-memory.ts";
import { MAX_LOCK_PAGE } from "../../shared/lfs/locks.ts";
import { describeLfsLockStoreContract, newLock } from "../contracts/lfs-locks.ts";

describeLfsLockStoreContract("memory", () => new MemoryLfsLockStore(), "memory");
describeLfsLockStoreContract("durable object", () => new DurableObjectLfsLockStore(env.LFS_LOCKS), "durable-object");

/** The tables of the object holding `repo`'s locks (SQLite's own `_cf_` and `sqlite_` tables left out). */
function tablesOf(repo: string): Promise<unknown[]> {
  return runInDurableObject(env.LFS_LOCKS.get(env.LFS_LOCKS.idFromName(repo)), (_instance, state) =>
    state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'").toArray(),
  );
}

describe("DurableObjectLfsLockStore", () => {
  it("keeps a repository's locks in the object named by the repository, one row per path", async () => {
    const store = new DurableObjectLfsLockStore(env.LFS_LOCKS);
    const repo = `do-${crypto.randomUUID().slice(0, 8)}`;
    const lock = newLock("a/b.bin", "alice");
    await store.create(repo, lock);
    const rows = await runInDurableObject(env.LFS_LOCKS.get(env.LFS_LOCKS.idFromName(repo)), (_instance, state) =>
      state.storage.sql.exec("SELECT path, id, owner, locked_at FROM locks").toArray(),
    );
    expect(rows).toEqual([{ path: "a/b.bin", id: lock.id, owner: "alice", locked_at: lock.locked_at }]);
  });

  it("writes nothing for a listing or an unlock in a repository nobody locked in", async () => {
    const store = new DurableObjectLfsLockStore(env.LFS_LOCKS);
    const repo = `do-${crypto.randomUUID().slice(0, 8)}`;
    await store.list(repo, { limit: MAX_LOCK_PAGE });
    await store.remove(repo, "00".repeat(16), "alice", true);
    expect(await tablesOf(repo)).toEqual([]);
  });
});
