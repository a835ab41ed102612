import { describe, expect, it } from "vitest";
import { type LfsLock, type LfsLockBackendName, type LfsLockStore, MAX_LOCK_PAGE, MAX_LOCK_PATH_BYTES, newLockId } from "../../shared/lfs/locks.ts";

/** Clients racing for one path; more than the two a real race needs, so a double grant cannot pass by luck. */
const RACE = 8;

/** A lock as the route builds it; repositories are fresh per case, so cases never see each other's locks. */
export function newLock(path: string, owner = "alice", overrides: Partial<LfsLock> = {}): LfsLock {
  return { id: newLockId(), path, locked_at: "2026-12-01T02:15:28Z", owner: { name: owner }, ...overrides };
}

function freshRepo(): string {
  return `contract-${crypto.randomUUID().slice(0, 13)}`;
}

/** The behaviour every `LfsLockStore` backend must show; each backend's test file calls this once. */
export function describeLfsLockStoreContract(name: string, make: () => LfsLockStore | Promise<LfsLockStore>, backend: LfsLockBackendName): void {
  describe(`LfsLockStore contract: ${name}`, () => {
    it(`reports backend "${backend}"`, async () => {
      expect((await make()).backend).toBe(backend);
    });

    it("knows no lock in a repository nobody locked in: an empty page, and unlock finds nothing", async () => {
      const store = await make();
      const repo = freshRepo();
      expect(await store.list(repo, { limit: MAX_LOCK_PAGE })).toEqual({ locks: [] });
      expect(await store.list(repo, { path: "a.bin", limit: 1 })).toEqual({ locks: [] });
      expect(await store.remove(repo, newLockId(), "alice", true)).toEqual({ missing: true });
    });

    it("locks a free path once: a second create, by anyone, gets the first lock back and changes nothing", async () => {
      const store = await make();
      const repo = freshRepo();
      const first = newLock("art/hero.psd", "alice");
      expect(await store.create(repo, first)).toEqual({ created: true, lock: first });
      expect(await store.create(repo, newLock("art/hero.psd", "bob"))).toEqual({ created: false, existing: first });
      expect(await store.create(repo, newLock("art/hero.psd", "alice"))).toEqual({ created: false, existing: first });
      expect(await store.list(repo, { limit: MAX_LOCK_PAGE })).toEqual({ locks: [first] });
    });

    it(`of ${RACE} concurrent creates of one path exactly one wins, and every loser is shown the winner's lock`, async () => {
      const store = await make();
      const repo = freshRepo();
      const attempts = Array.from({ length: RACE }, (_, n) => newLock("levels/one.umap", `owner-${n}`));
      const results = await Promise.all(attempts.map((lock) => store.create(repo, lock)));
      const winners = results.flatMap((result) => (result.created ? [result.lock] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) if (!result.created) expect(result.existing).toEqual(winners[0]);
      expect(await store.list(repo, { limit: MAX_LOCK_PAGE })).toEqual({ locks: winners });
    });

    it("keeps repositories apart: one path locked in two, and an id from one unlocks nothing in the other", async () => {
      const store = await make();
      const [a, b] = [freshRepo(), freshRepo()];
      const inA = newLock("shared.bin", "alice");
      const inB = newLock("shared.bin", "bob");
      expect((await store.create(a, inA)).created).toBe(true);
      expect((await store.create(b, inB)).created).toBe(true);
      expect(await store.remove(b, inA.id, "alice", true)).toEqual({ missing: true });
      expect(await store.list(a, { limit: MAX_LOCK_PAGE })).toEqual({ locks: [inA] });
      expect(await store.list(b, { limit: MAX_LOCK_PAGE })).toEqual({ locks: [inB] });
    });

    it("removes a lock for its owner; for anyone else only with force; then the path is free for a new lock", async () => {
      const store = await make();
      const repo = freshRepo();
      const lock = newLock("doc.pdf", "alice");
      await store.create(repo, lock);
      expect(await store.remove(repo, lock.id, "bob", false)).toEqual({ notOwner: lock });
      expect(await store.list(repo, { limit: MAX_LOCK_PAGE })).toEqual({ locks: [lock] });
      expect(await store.remove(repo, lock.id, "alice", false)).toEqual({ removed: lock });
      expect(await store.remove(repo, lock.id, "alice", false)).toEqual({ missing: true });
      const again = newLock("doc.pdf", "carol");
      expect(await store.create(repo, again)).toEqual({ created: true, lock: again });
      expect(await store.remove(repo, again.id, "bob", true)).toEqual({ removed: again });
      expect(await store.list(repo, { limit: MAX_LOCK_PAGE })).toEqual({ locks: [] });
    });

    it("an unlock of an old lock leaves a new lock on the same path alone", async () => {
      const store = await make();
      const repo = freshRepo();
      const old = newLock("model.fbx", "alice");
      await store.create(repo, old);
      await store.remove(repo, old.id, "alice", false);
      const current = newLock("model.fbx", "bob");
      await store.create(repo, current);
      expect(await store.remove(repo, old.id, "alice", true)).toEqual({ missing: true });
      expect(await store.list(repo, { limit: MAX_LOCK_PAGE })).toEqual({ locks: [current] });
    });

    it(`of ${RACE} concurrent unlocks of one lock exactly one removes it`, async () => {
      const store = await make();
      const repo = freshRepo();
      const lock = newLock("race/unlock.bin", "alice");
      await store.create(repo, lock);
      const results = await Promise.all(Array.from({ length: RACE }, (_, n) => store.remove(repo, lock.id, n % 2 === 0 ? "alice" : "bob", true)));
      expect(results.filter((result) => "removed" in result)).toEqual([{ removed: lock }]);
      expect(results.filter((result) => "missing" in result)).toHaveLength(RACE - 1);
    });

    it(`an unlock racing ${RACE} creates of its path: the unlock removes the old lock, at most one create wins, and the path ends held by the winner or by no one`, async () => {
      const store = await make();
      const repo = freshRepo();
      const held = newLock("race/relock.bin", "alice");
      await store.create(repo, held);
      const attempts = Array.from({ length: RACE }, (_, n) => newLock("race/relock.bin", `owner-${n}`));
      const [unlocked, ...creates] = await Promise.all([store.remove(repo, held.id, "alice", false), ...attempts.map((lock) => store.create(repo, lock))]);
      expect(unlocked).toEqual({ removed: held });
      const winners = creates.flatMap((result) => (result.created ? [result.lock] : []));
      expect(winners.length).toBeLessThanOrEqual(1);
      for (const result of creates) if (!result.created) expect([held, ...winners]).toContainEqual(result.existing);
      expect(await store.list(repo, { limit: MAX_LOCK_PAGE })).toEqual({ locks: winners });
    });

    it("lists in the byte order of the paths' UTF-8 (U+FFFD before an emoji, which UTF-16 order reverses)", async () => {
      const store = await make();
      const repo = freshRepo();
      const paths = ["b", "a/b", "a.b", "A", "\u{FFFD}.bin", "\u{1F600}.bin", "é.bin", "a b", "a"];
      for (const path of paths) await store.create(repo, newLock(path));
      const listed = (await store.list(repo, { limit: MAX_LOCK_PAGE })).locks.map((lock) => lock.path);
      expect(listed).toEqual(["A", "a", "a b", "a.b", "a/b", "b", "é.bin", "\u{FFFD}.bin", "\u{1F600}.bin"]);
    });

    it("pages by cursor: next_cursor exactly when more locks follow, each page starting after the last", async () => {
      const store = await make();
      const repo = freshRepo();
      const locks = ["p1", "p2", "p3", "p4", "p5"].map((path) => newLock(path));
      for (const lock of locks) await store.create(repo, lock);
      expect(await store.list(repo, { limit: 2 })).toEqual({ locks: locks.slice(0, 2), next_cursor: "p2" });
      expect(await store.list(repo, { limit: 2, cursor: "p2" })).toEqual({ locks: locks.slice(2, 4), next_cursor: "p4" });
      expect(await store.list(repo, { limit: 2, cursor: "p4" })).toEqual({ locks: locks.slice(4) });
      expect(await store.list(repo, { limit: 5 })).toEqual({ locks });
      // A cursor whose lock went in the meantime still resumes after it.
      await store.remove(repo, locks[1]!.id, "alice", false);
      expect(await store.list(repo, { limit: 2, cursor: "p2" })).toEqual({ locks: locks.slice(2, 4), next_cursor: "p4" });
    });

    it(`pages ${MAX_LOCK_PAGE + 1} locks as ${MAX_LOCK_PAGE} and 1`, async () => {
      const store = await make();
      const repo = freshRepo();
      const locks = Array.from({ length: MAX_LOCK_PAGE + 1 }, (_, n) => newLock(`many/${String(n).padStart(3, "0")}.bin`));
      await Promise.all(locks.map((lock) => store.create(repo, lock)));
      const first = await store.list(repo, { limit: MAX_LOCK_PAGE });
      expect(first).toEqual({ locks: locks.slice(0, MAX_LOCK_PAGE), next_cursor: locks[MAX_LOCK_PAGE - 1]!.path });
      expect(await store.list(repo, { limit: MAX_LOCK_PAGE, cursor: first.next_cursor! })).toEqual({ locks: locks.slice(MAX_LOCK_PAGE) });
    });

    it("filters by path and by id, together or alone, with or without a cursor", async () => {
      const store = await make();
      const repo = freshRepo();
      const [x, y, z] = ["x.bin", "y.bin", "z.bin"].map((path) => newLock(path, "alice"));
      for (const lock of [x!, y!, z!]) await store.create(repo, lock);
      expect(await store.list(repo, { path: "y.bin", limit: 1 })).toEqual({ locks: [y] });
      expect(await store.list(repo, { id: z!.id, limit: 1 })).toEqual({ locks: [z] });
      expect(await store.list(repo, { path: "y.bin", id: y!.id, limit: 10 })).toEqual({ locks: [y] });
      expect(await store.list(repo, { path: "y.bin", id: z!.id, limit: 10 })).toEqual({ locks: [] });
      expect(await store.list(repo, { path: "w.bin", limit: 10 })).toEqual({ locks: [] });
      expect(await store.list(repo, { id: newLockId(), limit: 10 })).toEqual({ locks: [] });
      expect(await store.list(repo, { path: "x.bin", cursor: "x.bin", limit: 10 })).toEqual({ locks: [] });
      expect(await store.list(repo, { id: z!.id, cursor: "x.bin", limit: 10 })).toEqual({ locks: [z] });
    });

    it(`keeps a path of ${MAX_LOCK_PATH_BYTES} bytes of UTF-8, and any character but NUL, byte for byte`, async () => {
      const store = await make();
      const repo = freshRepo();
      const longest = newLock(`${"é".repeat(MAX_LOCK_PATH_BYTES / 2 - 2)}.bin`);
      const odd = newLock("dir with spaces/ü\\back'slash\"quote\t%2F?#.bin");
      for (const lock of [longest, odd]) expect(await store.create(repo, lock)).toEqual({ created: true, lock });
      expect(await store.list(repo, { path: longest.path, limit: 1 })).toEqual({ locks: [longest] });
      expect(await store.list(repo, { path: odd.path, limit: 1 })).toEqual({ locks: [odd] });
    });

    it("refuses a page size outside 1..100", async () => {
      const store = await make();
      for (const limit of [0, MAX_LOCK_PAGE + 1, 1.5]) await expect(store.list(freshRepo(), { limit })).rejects.toThrow(/lock page limit/);
    });
  });
}
