import { describe, expect, it } from "vitest";
import type { MetadataBackendName, MetadataStore, SwapCondition } from "../../shared/metadata/index.ts";

export type MetadataStoreCapabilities =
  { backend: MetadataBackendName; atomicSwap: true } | { backend: MetadataBackendName; atomicSwap: false; reason: string };

/** Concurrent swaps under one condition in the "1 of N" cases (issue #10, finding 8, raced 20 writers). */
const SWAP_RACE = 20;

/** The longest object key (PROTOCOL section 3) behind the `obj:` namespace: 516 bytes, past KV's 512-byte names. */
const MAX_OBJECT_KEY_BYTES = 512;

/** Small enough that the paging case walks several pages, uneven so the last page is a partial one. */
const PAGE_LIMIT = 5;
const PAGED_KEY_COUNT = 23;

/** A fresh key segment per case, so cases never see each other's records even in shared storage. */
function runId(): string {
  return `contract-${crypto.randomUUID()}`;
}

/** `obj:<base><filler...>` whose object key part is exactly `bytes` bytes of UTF-8, `filler` repeated (then ASCII padding). */
function longObjectKey(base: string, filler: string, bytes = MAX_OBJECT_KEY_BYTES): string {
  let key = base;
  while (utf8Length(key + filler) <= bytes) key += filler;
  return `obj:${key.padEnd(key.length + bytes - utf8Length(key), "z")}`;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** A record with its tag where the object core keeps it (a manifest's `sha256`). */
const TAG = "sha256";
const tagged = (sha256: string, extra: Record<string, unknown> = {}) => ({ sha256, ...extra });

/** Every page of a listing, in order; gives up rather than loop forever on a cursor that never ends. */
async function listAll(store: MetadataStore, prefix: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(prefix, { limit, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page.keys);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length <= PAGED_KEY_COUNT);
  return pages;
}

/** The behaviour every `MetadataStore` backend must show; each backend's test file calls this once. */
export function describeMetadataStoreContract(name: string, make: () => MetadataStore | Promise<MetadataStore>, capabilities: MetadataStoreCapabilities): void {
  describe(`MetadataStore contract: ${name}`, () => {
    it(`reports backend "${capabilities.backend}" and atomicSwap ${capabilities.atomicSwap}`, async () => {
      const store = await make();
      expect(store.backend).toBe(capabilities.backend);
      expect(store.atomicSwap).toBe(capabilities.atomicSwap);
    });

    it("get of a missing key is null", async () => {
      const store = await make();
      expect(await store.get(`obj:${runId()}/missing`)).toBeNull();
    });

    it("put then get round-trips nested JSON", async () => {
      const store = await make();
      const key = `ver:${runId()}`;
      const value = {
        size: 3_145_745,
        chunks: ["sha256-a", "sha256-b"],
        nested: { deep: { list: [1, "two", null, true, { three: 3.5 }] }, empty: {} },
        text: "ünïcødé ✓",
      };
      await store.put(key, value);
      expect(await store.get(key)).toEqual(value);
    });

    it("a put replaces the previous value", async () => {
      const store = await make();
      const key = `obj:${runId()}/file`;
      await store.put(key, { version: 1, extra: "dropped" });
      await store.put(key, { version: 2 });
      expect(await store.get(key)).toEqual({ version: 2 });
    });

    it("delete removes the value and the key from listings", async () => {
      const store = await make();
      const prefix = `obj:${runId()}/`;
      await store.put(`${prefix}gone`, { n: 1 });
      await store.put(`${prefix}kept`, { n: 2 });
      await store.delete(`${prefix}gone`);
      expect(await store.get(`${prefix}gone`)).toBeNull();
      expect((await store.list(prefix)).keys).toEqual([`${prefix}kept`]);
    });

    it("delete of a missing key succeeds", async () => {
      const store = await make();
      await expect(store.delete(`obj:${runId()}/never-written`)).resolves.toBeUndefined();
    });

    it("list returns only the keys under the prefix, in lexicographic order", async () => {
      const store = await make();
      const base = `obj:${runId()}/`;
      const prefix = `${base}team-a/`;
      const inOrder = ["A", "B.txt", "a", "a-b", "a.b", "a/b", "a0", "b", "z"].map((rest) => prefix + rest);
      const outside = [`${base}team-a`, `${base}team-ab`, `${base}team-b/a`, `${base}team-`];
      for (const key of [...inOrder].reverse()) await store.put(key, { key });
      for (const key of outside) await store.put(key, { key });
      const page = await store.list(prefix);
      expect(page.keys).toEqual(inOrder);
      expect(page.cursor).toBeUndefined();
    });

    it("a prefix with no keys lists nothing and no cursor", async () => {
      const store = await make();
      expect(await store.list(`obj:${runId()}/`)).toEqual({ keys: [], cursor: undefined });
    });

    it(`paging with limit ${PAGE_LIMIT} and the cursor visits every key exactly once, in order`, async () => {
      const store = await make();
      const prefix = `key:${runId()}/`;
      const keys = Array.from({ length: PAGED_KEY_COUNT }, (_, n) => `${prefix}${String(n).padStart(3, "0")}`);
      await Promise.all(keys.map((key) => store.put(key, { key })));
      const pages = await listAll(store, prefix, PAGE_LIMIT);
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(PAGE_LIMIT);
      expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(PAGED_KEY_COUNT / PAGE_LIMIT));
      expect(pages.flat()).toEqual(keys);
    });

    it("list does not see other namespaces", async () => {
      const store = await make();
      const run = runId();
      for (const namespace of ["key", "obj", "ver", "gc"]) await store.put(`${namespace}:${run}`, { namespace });
      expect((await store.list(`obj:${run}`)).keys).toEqual([`obj:${run}`]);
      expect((await store.list(`gc:${run}`)).keys).toEqual([`gc:${run}`]);
    });

    it("unicode keys round-trip and list under their prefix", async () => {
      const store = await make();
      const prefix = `obj:${runId()}/ünïcødé/`;
      const keys = [`${prefix}café.txt`, `${prefix}文件.txt`, `${prefix}😀.bin`];
      for (const key of keys) await store.put(key, { name: key });
      for (const key of keys) expect(await store.get(key)).toEqual({ name: key });
      expect((await store.list(prefix)).keys).toEqual(keys);
    });

    describe("keys of the maximum length (issue #10, finding 4)", () => {
      const cases: [string, string][] = [
        ["ASCII", "a"],
        ["two-byte characters", "é"],
        ["three-byte characters, cut mid-character", "文"],
        ["four-byte characters", "😀"],
      ];

      it.each(cases)("stores, reads, lists and deletes a 512-byte object key of %s", async (_label, filler) => {
        const store = await make();
        const key = longObjectKey(`${runId()}/`, filler);
        expect(utf8Length(key)).toBe(4 + MAX_OBJECT_KEY_BYTES);
        await store.put(key, { key });
        expect(await store.get(key)).toEqual({ key });
        expect((await store.list(key)).keys).toEqual([key]);
        expect((await store.list(key.slice(0, 30))).keys).toEqual([key]);
        await store.delete(key);
        expect(await store.get(key)).toBeNull();
        expect((await store.list(key)).keys).toEqual([]);
      });

      // In any order: KV lists keys sharing their first 444 bytes by digest (kv-names.ts).
      it("keeps keys that differ only in their last bytes apart, each listed under its own prefix", async () => {
        const store = await make();
        const base = longObjectKey(`${runId()}/`, "文", MAX_OBJECT_KEY_BYTES - 1).slice(0, -1);
        const keys = ["a", "b", "c"].map((last) => `${base}/${last}`);
        for (const key of keys) await store.put(key, { key });
        for (const key of keys) expect(await store.get(key)).toEqual({ key });
        for (const key of keys) expect((await store.list(key)).keys).toEqual([key]);
        expect(new Set((await store.list(base)).keys)).toEqual(new Set(keys));
      });

      it("lists under a prefix longer than the longest key as empty, without an error", async () => {
        const store = await make();
        expect(await store.list(`obj:${"p".repeat(MAX_OBJECT_KEY_BYTES + 1)}`)).toEqual({ keys: [], cursor: undefined });
        expect(await store.list(`obj:${"é".repeat(300)}`)).toEqual({ keys: [], cursor: undefined });
      });

      it("swaps a 512-byte key like any other", async () => {
        const store = await make();
        const key = longObjectKey(`${runId()}/`, "é");
        expect(await store.swap(key, tagged("one"), { kind: "absent" }, TAG)).toEqual({ done: true, previous: null });
        expect(await store.swap(key, tagged("two"), { kind: "tag", tag: "one" }, TAG)).toEqual({ done: true, previous: tagged("one") });
        expect(await store.get(key)).toEqual(tagged("two"));
      });
    });

    describe("swap", () => {
      it("absent: creates a missing record and refuses an existing one", async () => {
        const store = await make();
        const key = `obj:${runId()}/x`;
        expect(await store.swap(key, tagged("one"), { kind: "absent" }, TAG)).toEqual({ done: true, previous: null });
        expect(await store.swap(key, tagged("two"), { kind: "absent" }, TAG)).toEqual({ done: false });
        expect(await store.get(key)).toEqual(tagged("one"));
      });

      it("tag: replaces the record carrying the tag, returning it, and refuses another tag or no record", async () => {
        const store = await make();
        const key = `obj:${runId()}/x`;
        expect(await store.swap(key, tagged("one"), { kind: "tag", tag: "one" }, TAG)).toEqual({ done: false });
        await store.swap(key, tagged("one", { n: 1 }), { kind: "any" }, TAG);
        expect(await store.swap(key, tagged("two"), { kind: "tag", tag: "other" }, TAG)).toEqual({ done: false });
        expect(await store.swap(key, tagged("two"), { kind: "tag", tag: "one" }, TAG)).toEqual({ done: true, previous: tagged("one", { n: 1 }) });
        expect(await store.get(key)).toEqual(tagged("two"));
      });

      it("tag: compares the tag of a record written by put (as before swaps existed)", async () => {
        const store = await make();
        const key = `obj:${runId()}/legacy`;
        await store.put(key, tagged("old"));
        expect(await store.swap(key, tagged("new"), { kind: "tag", tag: "other" }, TAG)).toEqual({ done: false });
        expect(await store.swap(key, tagged("new"), { kind: "tag", tag: "old" }, TAG)).toEqual({ done: true, previous: tagged("old") });
        expect(await store.swap(key, tagged("newer"), { kind: "tag", tag: "old" }, TAG)).toEqual({ done: false });
        expect(await store.get(key)).toEqual(tagged("new"));
      });

      it("present and any: null deletes the record and returns it; present refuses a missing one", async () => {
        const store = await make();
        const prefix = `obj:${runId()}/`;
        const key = `${prefix}x`;
        expect(await store.swap(key, null, { kind: "present" }, TAG)).toEqual({ done: false });
        expect(await store.swap(key, tagged("one"), { kind: "any" }, TAG)).toEqual({ done: true, previous: null });
        expect(await store.swap(key, tagged("two"), { kind: "any" }, TAG)).toEqual({ done: true, previous: tagged("one") });
        expect(await store.swap(key, null, { kind: "present" }, TAG)).toEqual({ done: true, previous: tagged("two") });
        expect(await store.get(key)).toBeNull();
        expect((await store.list(prefix)).keys).toEqual([]);
        expect(await store.swap(key, tagged("three"), { kind: "absent" }, TAG)).toEqual({ done: true, previous: null });
      });

      if (capabilities.atomicSwap) {
        const races: [string, SwapCondition, boolean][] = [
          ["absent, on a missing key", { kind: "absent" }, false],
          ["tag, naming the current record", { kind: "tag", tag: "v0" }, true],
          ["present, deleting the record", { kind: "present" }, true],
        ];
        it.each(races)(`1 of ${SWAP_RACE}: concurrent swaps under %s, exactly one is done`, async (_label, condition, seeded) => {
          const store = await make();
          const key = `obj:${runId()}/race`;
          if (seeded) await store.put(key, tagged("v0"));
          const next = (n: number) => (condition.kind === "present" ? null : tagged(`v${n + 1}`, { writer: n }));
          const results = await Promise.all(Array.from({ length: SWAP_RACE }, (_, n) => store.swap(key, next(n), condition, TAG)));
          const done = results.flatMap((result, n) => (result.done ? [n] : []));
          expect(done).toHaveLength(1);
          expect(await store.get(key)).toEqual(next(done[0] ?? -1));
        });
      } else {
        it.skip(`1 of ${SWAP_RACE}: skipped, ${capabilities.backend} swaps are not atomic (${capabilities.reason})`, () => {});
      }
    });
  });
}
