import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/crypto/encoding.ts";
import { DigestTreeBuilder, TREE_FANOUT, treePageKeys, type DigestTree, type TreeBuilderState } from "../../shared/objects/digest-tree.ts";
import type { ObjectStorage } from "../../shared/storage/index.ts";
import { MemoryObjectStorage } from "../../shared/storage/memory.ts";
import { R2ObjectStorage } from "../../shared/storage/r2-binding.ts";
import { workerdStreams } from "../../shared/streams/workerd.ts";
import { concatBytes } from "../support/bytes.ts";
import { countingStorage } from "../support/counting-storage.ts";
import { describeTreeReads } from "../support/tree-read-cases.ts";
import { sha256 } from "./support/objects-fixtures.ts";

/** A small fanout, so three and four levels take tens of digests instead of millions. */
const SMALL_FANOUT = 4;
const PAGES = "trees/TESTVERSION";

/** Distinct 32-byte digests: the SHA-256 of each index. */
async function digestsOf(count: number): Promise<Uint8Array<ArrayBuffer>[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => sha256(new TextEncoder().encode(`chunk ${index}`))));
}

/** The tree as the design defines it, built whole from the list: the pages by key, and the root. */
async function referenceTree(digests: Uint8Array[], fanout: number): Promise<{ pages: Map<string, string>; root: string }> {
  const pages = new Map<string, string>();
  let entries = digests;
  for (let level = 0; ; level++) {
    const cut = Array.from({ length: Math.ceil(entries.length / fanout) }, (_, page) => concatBytes(entries.slice(page * fanout, (page + 1) * fanout)));
    cut.forEach((page, index) => pages.set(`${PAGES}/${level}/${index}`, toHex(page)));
    const hashes = await Promise.all(cut.map(sha256));
    if (cut.length === 1) return { pages, root: toHex(hashes[0]!) };
    entries = hashes;
  }
}

async function storedHex(storage: ObjectStorage, key: string): Promise<string | undefined> {
  const stored = await storage.get(key);
  return stored ? toHex(new Uint8Array(await new Response(stored.body).arrayBuffer())) : undefined;
}

async function build(storage: ObjectStorage, digests: Uint8Array[], fanout: number): Promise<{ chunks: string[] } | { tree: DigestTree }> {
  const builder = new DigestTreeBuilder(storage, PAGES, fanout);
  for (const digest of digests) await builder.add(digest);
  return builder.finish();
}

describe("DigestTreeBuilder", () => {
  it("keeps up to `fanout` digests inline and writes no page, exactly `fanout` included", async () => {
    for (const count of [0, 1, SMALL_FANOUT - 1, SMALL_FANOUT]) {
      const storage = countingStorage(new MemoryObjectStorage());
      const digests = await digestsOf(count);
      expect(await build(storage, digests, SMALL_FANOUT), `${count} digests`).toEqual({ chunks: digests.map(toHex) });
      expect(storage.puts).toEqual([]);
    }
  });

  it("writes the tree the layout defines at two, three and four levels, page for page, and treePageKeys names every page", async () => {
    for (const count of [SMALL_FANOUT + 1, 16, 17, 47, 64, 65, 200]) {
      const storage = countingStorage(new MemoryObjectStorage());
      const digests = await digestsOf(count);
      const reference = await referenceTree(digests, SMALL_FANOUT);
      const result = await build(storage, digests, SMALL_FANOUT);
      expect(result, `${count} digests`).toEqual({ tree: { root: reference.root, fanout: SMALL_FANOUT, pages: PAGES } });
      expect(storage.puts.toSorted()).toEqual([...reference.pages.keys()].toSorted());
      for (const [key, hex] of reference.pages) expect(await storedHex(storage, key), key).toBe(hex);
      expect(treePageKeys({ pages: PAGES, fanout: SMALL_FANOUT }, count).toSorted()).toEqual([...reference.pages.keys()].toSorted());
    }
  });

  it("at the real fanout, 1024 digests stay inline and 1025 make a two-level tree of three pages", async () => {
    const digests = await digestsOf(TREE_FANOUT + 1);
    const inline = countingStorage(new MemoryObjectStorage());
    expect(await build(inline, digests.slice(0, TREE_FANOUT), TREE_FANOUT)).toEqual({ chunks: digests.slice(0, TREE_FANOUT).map(toHex) });
    expect(inline.puts).toEqual([]);

    const storage = countingStorage(new MemoryObjectStorage());
    const reference = await referenceTree(digests, TREE_FANOUT);
    expect(await build(storage, digests, TREE_FANOUT)).toEqual({ tree: { root: reference.root, fanout: TREE_FANOUT, pages: PAGES } });
    expect(storage.puts).toEqual([`${PAGES}/0/0`, `${PAGES}/0/1`, `${PAGES}/1/0`]);
    expect(treePageKeys({ pages: PAGES, fanout: TREE_FANOUT }, TREE_FANOUT + 1)).toEqual(storage.puts);
    expect(treePageKeys({ pages: PAGES, fanout: TREE_FANOUT }, TREE_FANOUT)).toEqual([]);
  });

  it("writes each page as soon as it is full and another digest comes, not at finish", async () => {
    const storage = countingStorage(new MemoryObjectStorage());
    const builder = new DigestTreeBuilder(storage, PAGES, SMALL_FANOUT);
    const digests = await digestsOf(2 * SMALL_FANOUT + 1);
    for (const digest of digests.slice(0, SMALL_FANOUT)) await builder.add(digest);
    expect(storage.puts).toEqual([]);
    await builder.add(digests[SMALL_FANOUT]!);
    expect(storage.puts).toEqual([`${PAGES}/0/0`]);
    for (const digest of digests.slice(SMALL_FANOUT + 1)) await builder.add(digest);
    expect(storage.puts).toEqual([`${PAGES}/0/0`, `${PAGES}/0/1`]);
  });

  it("continues exactly from a state exported at any point and carried through JSON", async () => {
    const count = 70;
    const digests = await digestsOf(count);
    const reference = await referenceTree(digests, SMALL_FANOUT);
    for (let stop = 0; stop <= count; stop++) {
      const storage = new MemoryObjectStorage();
      const first = new DigestTreeBuilder(storage, PAGES, SMALL_FANOUT);
      for (const digest of digests.slice(0, stop)) await first.add(digest);
      const state = JSON.parse(JSON.stringify(first.exportState())) as TreeBuilderState;
      const second = new DigestTreeBuilder(storage, PAGES, SMALL_FANOUT, state);
      for (const digest of digests.slice(stop)) await second.add(digest);
      expect(await second.finish(), `stopped after ${stop}`).toEqual({ tree: { root: reference.root, fanout: SMALL_FANOUT, pages: PAGES } });
      for (const [key, hex] of reference.pages) expect(await storedHex(storage, key), `${key}, stopped after ${stop}`).toBe(hex);
    }
  });

  it("keeps its state to one partial page per level: under 150 KB with three levels at the real fanout", async () => {
    const builder = new DigestTreeBuilder(new MemoryObjectStorage(), PAGES, TREE_FANOUT);
    const digest = new Uint8Array(32);
    // Three levels with both lower ones holding a full page not yet written (the most a level holds): 2 GiB of 1 MiB
    // chunks. Five TiB of 64 KiB chunks, the deepest tree, has three levels too, the top one with at most 80 entries.
    const count = 2 * TREE_FANOUT * TREE_FANOUT + TREE_FANOUT;
    for (let index = 0; index < count; index++) await builder.add(digest);
    const state = builder.exportState();
    const fullPageBase64 = Math.ceil((TREE_FANOUT * 32) / 3) * 4;
    expect(state.levels.map((level) => level.length)).toEqual([fullPageBase64, fullPageBase64, 44]);
    expect(JSON.stringify(state).length).toBeLessThan(150_000);
  });

  it("leaves itself unchanged when a page write fails, so retrying the add builds the same tree", async () => {
    const memory = new MemoryObjectStorage();
    let failNext = false;
    const flaky: ObjectStorage = {
      ...countingStorage(memory),
      put(blobKey, body, options) {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error("storage down"));
        }
        return memory.put(blobKey, body, options);
      },
    };
    const digests = await digestsOf(40);
    const reference = await referenceTree(digests, SMALL_FANOUT);
    const builder = new DigestTreeBuilder(flaky, PAGES, SMALL_FANOUT);
    for (const [index, digest] of digests.entries()) {
      // Every fourth add past the first page writes at least one page: fail the first write of those.
      if (index > SMALL_FANOUT && index % SMALL_FANOUT === 0) {
        failNext = true;
        await expect(builder.add(digest)).rejects.toThrow("storage down");
      }
      await builder.add(digest);
    }
    expect(await builder.finish()).toEqual({ tree: { root: reference.root, fanout: SMALL_FANOUT, pages: PAGES } });
  });

  it("refuses a state it could not have exported, a digest that is not 32 bytes, and use after finish", async () => {
    const storage = new MemoryObjectStorage();
    const digests = await digestsOf(SMALL_FANOUT + 2);
    const builder = new DigestTreeBuilder(storage, PAGES, SMALL_FANOUT);
    for (const digest of digests) await builder.add(digest);
    const state = builder.exportState();
    expect(() => new DigestTreeBuilder(storage, PAGES, SMALL_FANOUT + 1, state)).toThrow(/fanout/);
    expect(() => new DigestTreeBuilder(storage, PAGES, SMALL_FANOUT, { ...state, count: state.count + 1 })).toThrow(/count/);
    expect(() => new DigestTreeBuilder(storage, PAGES, SMALL_FANOUT, { ...state, levels: [state.levels[0]!] })).toThrow(/top level/);
    await expect(builder.add(new Uint8Array(31))).rejects.toThrow(/32 bytes/);
    await builder.finish();
    await expect(builder.add(digests[0]!)).rejects.toThrow(/after finish/);
    expect(() => builder.exportState()).toThrow(/after finish/);
  });
});

describeTreeReads({ name: "memory", storage: () => new MemoryObjectStorage(), streams: workerdStreams });
describeTreeReads({ name: "R2", storage: () => new R2ObjectStorage(env.OBJECTS), streams: workerdStreams });
