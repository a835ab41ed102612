import { describe, expect, it } from "vitest";
import { deleteObject } from "../../shared/objects/delete.ts";
import { openVerified } from "../../shared/objects/download.ts";
import { TREE_FANOUT, treePageKey, treePageKeys, treePagesPrefix } from "../../shared/objects/digest-tree.ts";
import { GC_GRACE_MS, MAX_UPLOAD_DURATION_MS, scheduleGarbage, sweepGarbage, TOMBSTONE_LIFETIME_MS } from "../../shared/objects/garbage.ts";
import { readCurrent, type Manifest } from "../../shared/objects/manifest.ts";
import { readPinnedVersion, tombstoneKey } from "../../shared/objects/tombstone.ts";
import { putObject } from "../../shared/objects/upload.ts";
import { newVersion } from "../../shared/objects/version.ts";
import type { ObjectStorage } from "../../shared/storage/index.ts";
import { storageWith } from "../support/store-overrides.ts";
import { backends, bytes, CHUNK, depsFor, drain, putBytes, requestBody, sha256, uniqueKey, type Backend, storedVersion } from "./support/objects-fixtures.ts";

type Deps = ReturnType<typeof depsFor>;
const DAY_MS = 86_400_000;
/**
 * Each test runs at its own time, years before the other suites' clocks, so a sweep here only ever reaches
 * records made by this file and the others' records never come due under these clocks.
 */
let nextBaseMs = Date.UTC(2001, 0, 1);
function freshDeps(backend: Backend): Deps {
  nextBaseMs += 30 * DAY_MS;
  return depsFor(backend, nextBaseMs);
}

function upload(deps: Deps, key: string, data: Uint8Array<ArrayBuffer>): Promise<Manifest> {
  return putBytes(deps, key, data, { maxObjectBytes: 8 * CHUNK });
}

/** Sweeps until no due record is left: the budget per run may stop a sweep early. */
async function sweepAt(deps: Deps, nowMs: number): Promise<void> {
  while ((await sweepGarbage(deps, nowMs)).more);
}

async function blobExists(deps: Deps, blob: string): Promise<boolean> {
  const stored = await deps.storage.get(blob);
  await stored?.body.cancel();
  return stored !== null;
}

async function readsBack(deps: Deps, manifest: Manifest, data: Uint8Array): Promise<boolean> {
  const { received, error } = await drain(await openVerified(deps, manifest, { requestId: "req-gc" }));
  return error === undefined && received.length === data.length && received.every((byte, i) => byte === data[i]);
}

describe.each(backends())("garbage sweep on $name", (backend: Backend) => {
  it("keeps a superseded blob and its version manifest through the grace period, then deletes both", async () => {
    const deps = freshDeps(backend);
    const key = uniqueKey("superseded.bin");
    const firstData = bytes(CHUNK + 1, 1);
    const first = await upload(deps, key, firstData);
    deps.time.now += 1000;
    const secondData = bytes(100, 2);
    const second = await upload(deps, key, secondData);
    const supersededAt = deps.time.now;

    await sweepAt(deps, supersededAt + GC_GRACE_MS - 1);
    expect(await blobExists(deps, first.blob)).toBe(true);
    expect(await storedVersion(deps.metadata, first.version)).toEqual(first);
    expect(await readsBack(deps, first, firstData)).toBe(true);

    await sweepAt(deps, supersededAt + GC_GRACE_MS);
    expect(await blobExists(deps, first.blob)).toBe(false);
    expect(await storedVersion(deps.metadata, first.version)).toBeNull();
    expect(await readCurrent(deps, key)).toEqual(second);
    expect(await readsBack(deps, second, secondData)).toBe(true);
  });

  it("drops the pending record of a committed upload without touching its live blob", async () => {
    const deps = freshDeps(backend);
    const key = uniqueKey("committed.bin");
    const data = bytes(2 * CHUNK, 3);
    const manifest = await upload(deps, key, data);
    const result = await sweepGarbage(deps, deps.time.now + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS + 1);
    expect(result.kept).toBeGreaterThanOrEqual(1);
    expect(await blobExists(deps, manifest.blob)).toBe(true);
    expect(await storedVersion(deps.metadata, manifest.version)).toEqual(manifest);
    expect(await readsBack(deps, manifest, data)).toBe(true);
  });

  it("keeps a deleted object's bytes readable by version through the grace period, then deletes them", async () => {
    const deps = freshDeps(backend);
    const key = uniqueKey("deleted.bin");
    const data = bytes(300, 4);
    const manifest = await upload(deps, key, data);
    deps.time.now += 5000;
    expect(await deleteObject(deps, key)).toEqual(manifest);
    const deletedAt = deps.time.now;
    expect(await readCurrent(deps, key)).toBeNull();

    await sweepAt(deps, deletedAt + GC_GRACE_MS - 1);
    expect(await storedVersion(deps.metadata, manifest.version)).toEqual(manifest);
    expect(await readsBack(deps, manifest, data)).toBe(true);

    await sweepAt(deps, deletedAt + GC_GRACE_MS);
    expect(await blobExists(deps, manifest.blob)).toBe(false);
    expect(await storedVersion(deps.metadata, manifest.version)).toBeNull();
  });

  describe("tombstones (issue #10, finding 3)", () => {
    const tombstoneOf = (deps: Deps, key: string) => deps.metadata.get(tombstoneKey(key));

    it("refuse links to every version committed before the delete, not to a later upload, and go once older versions are swept", async () => {
      const deps = freshDeps(backend);
      const key = uniqueKey("tombstoned.bin");
      const older = await upload(deps, key, bytes(100, 11));
      deps.time.now += 1000;
      const deleted = await upload(deps, key, bytes(100, 12));
      deps.time.now += 1000;
      expect(await readPinnedVersion(deps, key, older.version)).toEqual(older);
      await deleteObject(deps, key);
      const deletedAt = deps.time.now;
      expect(await readPinnedVersion(deps, key, older.version)).toBeNull();
      expect(await readPinnedVersion(deps, key, deleted.version)).toBeNull();
      deps.time.now += 1000;
      const again = await upload(deps, key, bytes(100, 13));
      expect(await readPinnedVersion(deps, key, again.version)).toEqual(again);
      expect(await readPinnedVersion(deps, key, deleted.version)).toBeNull();

      await sweepAt(deps, deletedAt + TOMBSTONE_LIFETIME_MS - 1);
      expect(await storedVersion(deps.metadata, deleted.version)).toBeNull();
      expect(await tombstoneOf(deps, key)).not.toBeNull();
      await sweepAt(deps, deletedAt + TOMBSTONE_LIFETIME_MS);
      expect(await tombstoneOf(deps, key)).toBeNull();
      expect(await readPinnedVersion(deps, key, again.version)).toEqual(again);
    });

    it("keep a later delete's tombstone when the earlier delete's one comes due", async () => {
      const deps = freshDeps(backend);
      const key = uniqueKey("deleted-twice.bin");
      await upload(deps, key, bytes(10, 14));
      await deleteObject(deps, key);
      const firstDeleteAt = deps.time.now;
      deps.time.now += GC_GRACE_MS;
      const second = await upload(deps, key, bytes(10, 15));
      deps.time.now += 1000;
      await deleteObject(deps, key);
      await sweepAt(deps, firstDeleteAt + TOMBSTONE_LIFETIME_MS);
      expect(await tombstoneOf(deps, key)).not.toBeNull();
      expect(await readPinnedVersion(deps, key, second.version)).toBeNull();
    });

    it("stay through a sweep in which an earlier record failed, and go in the next one", async () => {
      const deps = freshDeps(backend);
      const key = uniqueKey("stubborn-delete.bin");
      const manifest = await upload(deps, key, bytes(10, 16));
      await deleteObject(deps, key);
      const deletedAt = deps.time.now;
      const inner = deps.storage;
      const unavailable = storageWith(inner, { delete: () => Promise.reject(new Error("storage unavailable")) });
      // Other tests' records may come due in the same run: at least this key's blob fails and its tombstone waits.
      const run = await sweepGarbage({ ...deps, storage: unavailable }, deletedAt + TOMBSTONE_LIFETIME_MS);
      expect(run.failed).toBeGreaterThan(0);
      expect(run.deferred).toBeGreaterThan(0);
      expect(await tombstoneOf(deps, key)).not.toBeNull();
      expect(await readPinnedVersion(deps, key, manifest.version)).toBeNull();
      await sweepAt(deps, deletedAt + TOMBSTONE_LIFETIME_MS);
      expect(await storedVersion(deps.metadata, manifest.version)).toBeNull();
      expect(await tombstoneOf(deps, key)).toBeNull();
    });
  });

  it("sweeps the blob of a failed upload that could not be deleted right away", async () => {
    const deps = freshDeps(backend);
    const inner = deps.storage;
    const written: string[] = [];
    // Storage that skips its own digest check (so the bad bytes land) and cannot delete (so cleanup fails).
    const stubborn = storageWith(inner, {
      put: (blobKey, body, { sha256: _unchecked, ...options }) => {
        written.push(blobKey);
        return inner.put(blobKey, body, options);
      },
      delete: async () => {
        throw new Error("storage unavailable");
      },
    });
    const startedAt = deps.time.now;
    const data = bytes(CHUNK + 9, 5);
    const attempt = putObject(
      { ...deps, storage: stubborn },
      {
        key: uniqueKey("failed.bin"),
        body: requestBody(data),
        length: data.length,
        expectedSha256: await sha256(bytes(CHUNK + 9, 6)),
        keyid: "uploader",
        chunkSize: CHUNK,
        maxObjectBytes: 8 * CHUNK,
        requestId: "req-gc-failed",
      },
    );
    await expect(attempt).rejects.toMatchObject({ code: "digest_mismatch" });
    expect(deps.log.lines()).toContainEqual(expect.objectContaining({ event: "upload_cleanup_failed", request_id: "req-gc-failed" }));
    const [blob] = written;
    expect(blob).toBeDefined();

    await sweepAt(deps, startedAt + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS - 1);
    expect(await blobExists(deps, blob ?? "")).toBe(true);
    await sweepAt(deps, startedAt + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS);
    expect(await blobExists(deps, blob ?? "")).toBe(false);
  });

  describe("digest tree pages (manifest v2) go with their blob", () => {
    /** TREE_FANOUT + 1 chunks this small make a tree of three pages from 16 KiB. */
    const TINY_CHUNK = 16;
    const TREE_CHUNKS = TREE_FANOUT + 1;

    async function treeUpload(deps: Deps, key: string, seed: number, storage: ObjectStorage = deps.storage, sha256Of = seed) {
      const data = bytes(TREE_CHUNKS * TINY_CHUNK, seed);
      return putObject(
        { ...deps, storage },
        {
          key,
          body: requestBody(data),
          length: data.length,
          expectedSha256: await sha256(bytes(data.length, sha256Of)),
          keyid: "uploader",
          chunkSize: TINY_CHUNK,
          maxObjectBytes: data.length,
          requestId: "req-gc-tree",
        },
      );
    }

    async function pagesLeft(deps: Deps, version: string): Promise<string[]> {
      const keys = treePageKeys({ pages: treePagesPrefix(version), fanout: TREE_FANOUT }, TREE_CHUNKS);
      expect(keys).toHaveLength(3);
      const left = await Promise.all(keys.map(async (key) => ((await blobExists(deps, key)) ? key : null)));
      return left.filter((key) => key !== null);
    }

    it("of a superseded version: kept through the grace period, then deleted", async () => {
      const deps = freshDeps(backend);
      const key = uniqueKey("tree-superseded.bin");
      const first = await treeUpload(deps, key, 31);
      expect(first.tree).toBeDefined();
      deps.time.now += 1000;
      await upload(deps, key, bytes(10, 32));
      const supersededAt = deps.time.now;

      await sweepAt(deps, supersededAt + GC_GRACE_MS - 1);
      expect(await pagesLeft(deps, first.version)).toHaveLength(3);
      await sweepAt(deps, supersededAt + GC_GRACE_MS);
      expect(await pagesLeft(deps, first.version)).toEqual([]);
      expect(await blobExists(deps, first.blob)).toBe(false);
    });

    it("of a deleted object: deleted after the grace period, and a committed upload's pending record leaves them", async () => {
      const deps = freshDeps(backend);
      const key = uniqueKey("tree-deleted.bin");
      const manifest = await treeUpload(deps, key, 33);
      await sweepGarbage(deps, deps.time.now + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS + 1);
      expect(await pagesLeft(deps, manifest.version)).toHaveLength(3);

      deps.time.now += MAX_UPLOAD_DURATION_MS + GC_GRACE_MS + 2;
      await deleteObject(deps, key);
      await sweepAt(deps, deps.time.now + GC_GRACE_MS);
      expect(await pagesLeft(deps, manifest.version)).toEqual([]);
      expect(await blobExists(deps, manifest.blob)).toBe(false);
    });

    it("of a failed PUT whose cleanup failed: swept by its pending record", async () => {
      const deps = freshDeps(backend);
      const written: string[] = [];
      const undeletable = storageWith(deps.storage, {
        put: (blobKey, body, { sha256: _unchecked, ...options }) => {
          written.push(blobKey);
          return deps.storage.put(blobKey, body, options);
        },
        delete: () => Promise.reject(new Error("storage unavailable")),
      });
      const startedAt = deps.time.now;
      await expect(treeUpload(deps, uniqueKey("tree-failed.bin"), 34, undeletable, 35)).rejects.toMatchObject({ code: "digest_mismatch" });
      const [blob, ...pages] = written;
      const version = (blob ?? "").slice("blobs/".length);
      // The full level-0 page went out while the body streamed; the digest refused the body before the rest.
      expect(pages).toEqual([treePageKey(treePagesPrefix(version), 0, 0)]);
      expect(await pagesLeft(deps, version)).toEqual(pages);

      await sweepAt(deps, startedAt + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS);
      expect(await pagesLeft(deps, version)).toEqual([]);
      expect(await blobExists(deps, blob ?? "")).toBe(false);
    });

    it("of a tree too large for one run: deleted over several, each run resuming where the last stopped", async () => {
      const deps = freshDeps(backend);
      const version = newVersion(deps.time.now);
      const blob = `blobs/${version}`;
      // 450 level-0 pages and a top page; only a few are stored, as deleting a missing page succeeds.
      const chunkCount = 450 * TREE_FANOUT;
      const tree = { pages: treePagesPrefix(version), fanout: TREE_FANOUT };
      const keys = treePageKeys(tree, chunkCount);
      const sample = [keys[0]!, keys[399]!, keys[400]!, keys.at(-1)!];
      for (const key of [blob, ...sample]) await deps.storage.put(key, new Blob(["x"]).stream(), { length: 1 });
      await scheduleGarbage(deps.metadata, deps.time.now, { key: uniqueKey("tree-huge.bin"), version, blob, tree: { ...tree, chunk_count: chunkCount } });

      const first = await sweepGarbage(deps, deps.time.now);
      expect(first).toMatchObject({ collected: 0, tree_pages: 400, more: true });
      expect(await Promise.all([blob, ...sample].map((key) => blobExists(deps, key)))).toEqual([true, false, false, true, true]);
      const second = await sweepGarbage(deps, deps.time.now);
      expect(second).toMatchObject({ collected: 1, tree_pages: keys.length - 400, more: false });
      expect(await Promise.all([blob, ...sample].map((key) => blobExists(deps, key)))).toEqual([false, false, false, false, false]);
    });
  });

  it("refuses to commit an upload that outlasted MAX_UPLOAD_DURATION_MS, since its blob may be swept", async () => {
    const deps = freshDeps(backend);
    const key = uniqueKey("slow.bin");
    const data = bytes(CHUNK, 7);
    let sent = false;
    const slow = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (sent) return controller.close();
          sent = true;
          deps.time.now += MAX_UPLOAD_DURATION_MS + 1;
          controller.enqueue(data);
        },
      },
      // Pulled only once the upload reads, after it noted its start time.
      { highWaterMark: 0 },
    );
    const attempt = putObject(deps, {
      key,
      body: slow,
      length: data.length,
      expectedSha256: await sha256(data),
      keyid: "uploader",
      chunkSize: CHUNK,
      maxObjectBytes: 8 * CHUNK,
      requestId: "req-gc-slow",
    });
    await expect(attempt).rejects.toMatchObject({ code: "internal" });
    expect(await readCurrent(deps, key)).toBeNull();
  });
});
