import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/crypto/encoding.ts";
import { chunkDigests } from "../../shared/objects/chunk-digests.ts";
import { DigestTreeBuilder, treePageKey, treePageKeys, treePagesPrefix } from "../../shared/objects/digest-tree.ts";
import { openVerified } from "../../shared/objects/download.ts";
import type { Manifest } from "../../shared/objects/manifest.ts";
import { blobKeyFor, newVersion } from "../../shared/objects/version.ts";
import type { ByteRange, ObjectStorage } from "../../shared/storage/index.ts";
import type { StreamRuntime } from "../../shared/streams/index.ts";
import { countingStorage, type CountingStorage } from "./counting-storage.ts";
import { drain } from "./drain.ts";
import { RecordingLogger } from "./recording-logger.ts";

/**
 * Reads through a digest tree (manifest v2) on one object storage backend: the pages a Range read fetches, and every
 * way storage can corrupt the tree. Run by each backend's test (memory and R2 in workerd, S3 on s3rver in Node).
 *
 * The tree has fanout 4 over 50 chunks of 256 bytes: levels of 50, 13 and 4 entries, so three levels whose last
 * pages are partial (page 0/12 holds 2 digests, page 1/3 one), small enough to build in milliseconds.
 */
const FANOUT = 4;
const CHUNK_BYTES = 256;
const CHUNKS = 50;
const LEVEL0_PAGES = 13;
const REQUEST_ID = "req-tree-reads";

interface Stored {
  manifest: Manifest;
  data: Uint8Array<ArrayBuffer>;
  storage: CountingStorage;
  log: RecordingLogger;
  page(level: number, index: number): string;
}

export interface TreeReadBackend {
  name: string;
  storage(): ObjectStorage;
  streams: StreamRuntime;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** Stores a blob of random chunks and its tree under a fresh version, as a v2 manifest describes them. */
async function storeObject(backend: TreeReadBackend): Promise<Stored> {
  const storage = countingStorage(backend.storage());
  const version = newVersion(Date.now());
  const data = crypto.getRandomValues(new Uint8Array(CHUNKS * CHUNK_BYTES));
  const blob = blobKeyFor(version);
  await storage.put(blob, new Blob([data]).stream(), { length: data.length });
  const pages = treePagesPrefix(version);
  const builder = new DigestTreeBuilder(storage, pages, FANOUT);
  for (let chunk = 0; chunk < CHUNKS; chunk++) await builder.add(await sha256(data.slice(chunk * CHUNK_BYTES, (chunk + 1) * CHUNK_BYTES)));
  const digests = await builder.finish();
  const manifest: Manifest = {
    key: `tree-reads/${version}`,
    version,
    size: data.length,
    sha256: toHex(await sha256(data)),
    chunk_size: CHUNK_BYTES,
    ...digests,
    content_type: "application/octet-stream",
    created_at: new Date().toISOString(),
    keyid: "tree-reader",
    blob,
  };
  storage.gets.length = 0;
  return { manifest, data, storage, log: new RecordingLogger(), page: (level, index) => treePageKey(pages, level, index) };
}

function depsOf(stored: Stored, backend: TreeReadBackend) {
  return { storage: stored.storage, log: stored.log, streams: backend.streams, config: { encryption: { ring: null, readUnsignedLegacy: false } } };
}

async function read(stored: Stored, backend: TreeReadBackend, span?: ByteRange): Promise<{ received: Uint8Array; error: unknown }> {
  return drain(await openVerified(depsOf(stored, backend), stored.manifest, { span, requestId: REQUEST_ID }));
}

function chunkSpan(first: number, end: number): ByteRange {
  return { offset: first * CHUNK_BYTES, length: (end - first) * CHUNK_BYTES };
}

async function pageBytes(stored: Stored, key: string): Promise<Uint8Array<ArrayBuffer>> {
  const page = await stored.storage.get(key);
  if (!page) throw new Error(`${key} is not stored`);
  return new Uint8Array(await new Response(page.body).arrayBuffer());
}

/** Overwrites a page behind the gateway's back: untrusted storage misbehaving. */
async function replacePage(stored: Stored, key: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  await stored.storage.put(key, new Blob([bytes]).stream(), { length: bytes.length });
}

/** Flips one bit of the page's byte `at` (negative: from the end). */
async function flipBit(stored: Stored, key: string, at: number): Promise<void> {
  const bytes = await pageBytes(stored, key);
  const index = at < 0 ? bytes.length + at : at;
  bytes[index] = bytes[index]! ^ 1;
  await replacePage(stored, key, bytes);
}

function treeGets(stored: Stored): string[] {
  return stored.storage.gets.filter((key) => key.startsWith(stored.manifest.tree!.pages));
}

export function describeTreeReads(backend: TreeReadBackend): void {
  describe(`digest tree reads on ${backend.name}`, () => {
    it("builds a three-level tree and reads the whole object back, fetching each page once", async () => {
      const stored = await storeObject(backend);
      expect(stored.manifest.chunks).toBeUndefined();
      expect(stored.manifest.tree).toMatchObject({ fanout: FANOUT, pages: treePagesPrefix(stored.manifest.version) });
      const { received, error } = await read(stored, backend);
      expect(error).toBeUndefined();
      expect(received).toEqual(stored.data);
      const allPages = treePageKeys(stored.manifest.tree!, CHUNKS);
      expect(allPages).toHaveLength(LEVEL0_PAGES + 4 + 1);
      expect(treeGets(stored).toSorted()).toEqual(allPages.toSorted());
    });

    it("fetches only the pages on the path of a Range read in the middle, top first", async () => {
      const stored = await storeObject(backend);
      const { received, error } = await read(stored, backend, { offset: 21 * CHUNK_BYTES + 5, length: 10 });
      expect(error).toBeUndefined();
      expect(received).toEqual(stored.data.subarray(21 * CHUNK_BYTES + 5, 21 * CHUNK_BYTES + 15));
      expect(treeGets(stored)).toEqual([stored.page(2, 0), stored.page(1, 1), stored.page(0, 5)]);

      stored.storage.gets.length = 0;
      const across = await read(stored, backend, chunkSpan(14, 30));
      expect(across.received).toEqual(stored.data.subarray(14 * CHUNK_BYTES, 30 * CHUNK_BYTES));
      const path = [
        [2, 0],
        [1, 0],
        [0, 3],
        [1, 1],
        [0, 4],
        [0, 5],
        [0, 6],
        [0, 7],
      ] as const;
      expect(treeGets(stored)).toEqual(path.map(([level, page]) => stored.page(level, page)));
    });

    it("keeps only the current path: memory is one page per level, so going back fetches a page again", async () => {
      const stored = await storeObject(backend);
      const digests = chunkDigests(stored, stored.manifest);
      const first = await digests.digest(0);
      await digests.digest(CHUNKS - 1);
      expect(await digests.digest(0)).toBe(first);
      expect(first).toBe(toHex(await sha256(stored.data.slice(0, CHUNK_BYTES))));
      expect(treeGets(stored)).toEqual([
        stored.page(2, 0),
        stored.page(1, 0),
        stored.page(0, 0),
        stored.page(1, 3),
        stored.page(0, 12),
        stored.page(1, 0),
        stored.page(0, 0),
      ]);
    });

    /**
     * Each way storage can break the tree, applied to the level-0 page of chunks 20-23 (or an ancestor), must stop
     * a whole read exactly before chunk 20 (or the first chunk under the broken ancestor) and refuse a Range read
     * starting there before a byte is sent, with an `integrity_failure` naming the page.
     */
    const corruptions: {
      name: string;
      page: [number, number];
      firstBadChunk: number;
      reason: string;
      corrupt(stored: Stored, key: string): Promise<void>;
    }[] = [
      {
        name: "a byte of a level-0 page altered",
        page: [0, 5],
        firstBadChunk: 20,
        reason: "tree_page_mismatch",
        corrupt: (stored, key) => flipBit(stored, key, 40),
      },
      {
        name: "two level-0 pages swapped",
        page: [0, 5],
        firstBadChunk: 20,
        reason: "tree_page_mismatch",
        corrupt: async (stored, key) => {
          const [five, six] = await Promise.all([pageBytes(stored, key), pageBytes(stored, stored.page(0, 6))]);
          await replacePage(stored, key, six);
          await replacePage(stored, stored.page(0, 6), five);
        },
      },
      {
        name: "a level-0 page truncated by one digest",
        page: [0, 5],
        firstBadChunk: 20,
        reason: "tree_page_mismatch",
        corrupt: async (stored, key) => replacePage(stored, key, (await pageBytes(stored, key)).subarray(0, 3 * 32)),
      },
      {
        name: "a level-0 page missing",
        page: [0, 5],
        firstBadChunk: 20,
        reason: "tree_page_missing",
        corrupt: (stored, key) => stored.storage.delete(key),
      },
      {
        name: "an intermediate page altered",
        page: [1, 1],
        firstBadChunk: 16,
        reason: "tree_page_mismatch",
        corrupt: (stored, key) => flipBit(stored, key, 0),
      },
      {
        name: "the last, partial level-0 page grown by a digest",
        page: [0, 12],
        firstBadChunk: 48,
        reason: "tree_page_mismatch",
        corrupt: async (stored, key) => {
          const bytes = await pageBytes(stored, key);
          await replacePage(stored, key, new Uint8Array([...bytes, ...bytes.subarray(0, 32)]));
        },
      },
    ];

    for (const corruption of corruptions) {
      it(`refuses chunks under ${corruption.name}, before any byte of them`, async () => {
        const stored = await storeObject(backend);
        const key = stored.page(...corruption.page);
        await corruption.corrupt(stored, key);

        const whole = await read(stored, backend);
        expect(whole.error).toBeDefined();
        expect(whole.received).toEqual(stored.data.subarray(0, corruption.firstBadChunk * CHUNK_BYTES));
        expect(stored.log.lines("integrity_failure")).toEqual([
          expect.objectContaining({ chunk: corruption.firstBadChunk, reason: corruption.reason, tree_page: key, blob: stored.manifest.blob }),
        ]);

        const span = chunkSpan(corruption.firstBadChunk, corruption.firstBadChunk + 1);
        await expect(openVerified(depsOf(stored, backend), stored.manifest, { span, requestId: REQUEST_ID })).rejects.toMatchObject({
          code: "integrity_failure",
        });
        // Chunks the broken page does not cover still read.
        const before = await read(stored, backend, chunkSpan(0, corruption.firstBadChunk));
        expect(before.error).toBeUndefined();
      });
    }

    it("refuses a chunk replaced in the blob together with its digest in the level-0 page (a coherent forgery)", async () => {
      const stored = await storeObject(backend);
      const forged = stored.data.slice();
      forged.fill(0x5a, 21 * CHUNK_BYTES, 22 * CHUNK_BYTES);
      await stored.storage.put(stored.manifest.blob, new Blob([forged]).stream(), { length: forged.length });
      const key = stored.page(0, 5);
      const page = await pageBytes(stored, key);
      page.set(await sha256(forged.slice(21 * CHUNK_BYTES, 22 * CHUNK_BYTES)), 32);
      await replacePage(stored, key, page);

      await expect(openVerified(depsOf(stored, backend), stored.manifest, { span: chunkSpan(21, 22), requestId: REQUEST_ID })).rejects.toMatchObject({
        code: "integrity_failure",
      });
      expect(stored.log.lines("integrity_failure")).toEqual([expect.objectContaining({ chunk: 21, reason: "tree_page_mismatch", tree_page: key })]);
    });

    it("logs what a page was expected to be and what it was", async () => {
      const stored = await storeObject(backend);
      const key = stored.page(0, 5);
      const original = await pageBytes(stored, key);
      const level1 = await pageBytes(stored, stored.page(1, 1));
      await replacePage(stored, key, original.subarray(0, 64));
      await read(stored, backend, chunkSpan(20, 21)).catch(() => {});
      await replacePage(stored, key, new Uint8Array(original.length));
      await read(stored, backend, chunkSpan(20, 21)).catch(() => {});
      expect(stored.log.lines("integrity_failure")).toEqual([
        expect.objectContaining({ reason: "tree_page_mismatch", tree_page: key, expected_size: 128, actual_size: 64 }),
        expect.objectContaining({
          reason: "tree_page_mismatch",
          tree_page: key,
          // Page 0/5 is entry 1 of page 1/1.
          expected: toHex(level1.subarray(32, 64)),
          actual: toHex(await sha256(new Uint8Array(original.length))),
        }),
      ]);
    });

    it("refuses every chunk when the top page does not hash to the manifest's root", async () => {
      const stored = await storeObject(backend);
      const top = stored.page(2, 0);
      await flipBit(stored, top, -1);
      await expect(openVerified(depsOf(stored, backend), stored.manifest, { requestId: REQUEST_ID })).rejects.toMatchObject({ code: "integrity_failure" });
      expect(stored.log.lines("integrity_failure")).toEqual([
        expect.objectContaining({ chunk: 0, reason: "tree_page_mismatch", tree_page: top, expected: stored.manifest.tree!.root }),
      ]);
    });
  });
}
