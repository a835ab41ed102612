import { describe, expect, it } from "vitest";
import { objectResponseHead } from "../../functions/http/object-headers.ts";
import { toBase64, toHex } from "../../shared/crypto/encoding.ts";
import { openVerified } from "../../shared/objects/download.ts";
import { readCurrent, type Manifest } from "../../shared/objects/manifest.ts";
import { TREE_FANOUT, treePageKeys, treePagesPrefix } from "../../shared/objects/digest-tree.ts";
import { putObject, type PutObjectInput } from "../../shared/objects/upload.ts";
import type { ByteRange, ObjectStorage } from "../../shared/storage/index.ts";
import { countingStorage } from "../support/counting-storage.ts";
import { storageWith } from "../support/store-overrides.ts";
import {
  backends,
  bytes,
  CHUNK,
  depsFor,
  drain,
  piecewise,
  requestBody,
  sha256,
  uniqueKey,
  type Backend,
  firstDifference,
  putBytes,
  storedVersion,
} from "./support/objects-fixtures.ts";

type Deps = ReturnType<typeof depsFor>;
const REQUEST_ID = "req-objects-core";
/** Writers racing one precondition, as many as the reproduction used. */
const CONDITIONAL_WRITERS = 20;

function upload(deps: Deps, key: string, data: Uint8Array<ArrayBuffer>, extra: Partial<PutObjectInput> = {}): Promise<Manifest> {
  return putBytes(deps, key, data, { requestId: REQUEST_ID, ...extra });
}

async function readBack(deps: Deps, manifest: Manifest, range?: ByteRange): Promise<Uint8Array> {
  const verified = await openVerified(deps, manifest, { span: range, requestId: REQUEST_ID });
  const { received, error } = await drain(verified);
  expect(error).toBeUndefined();
  return received;
}

/** Storage that remembers which blob keys were written, to check a failed upload left none behind. */
function watchingPuts(storage: ObjectStorage): { storage: ObjectStorage; puts: string[] } {
  const puts: string[] = [];
  return {
    puts,
    storage: storageWith(storage, {
      put: (blobKey, body, options) => {
        puts.push(blobKey);
        return storage.put(blobKey, body, options);
      },
    }),
  };
}

async function expectNothingLeft(deps: Deps, blobKey: string | undefined): Promise<void> {
  expect(blobKey).toMatch(/^blobs\//);
  expect(await deps.storage.get(blobKey ?? "")).toBeNull();
  expect(await storedVersion(deps.metadata, (blobKey ?? "").slice("blobs/".length))).toBeNull();
}

describe.each(backends())("object core on $name", (backend: Backend) => {
  describe("round trip", () => {
    const sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3.5 * CHUNK];
    it.each(
      sizes.flatMap((size) => [
        { size, body: "request body (BYOB)" },
        { size, body: "JS stream (copying reader)" },
      ]),
    )("stores and verifies $size bytes from a $body", async ({ size, body }) => {
      const deps = depsFor(backend);
      const data = bytes(size, size + 7);
      const key = uniqueKey("round-trip.bin");
      const stream = body.startsWith("request") ? requestBody(data) : piecewise(data, 7_000);
      const manifest = await upload(deps, key, data, { body: stream, contentType: "application/x-test" });

      const expectedChunks: string[] = [];
      for (let at = 0; at < size; at += CHUNK) expectedChunks.push(toHex(await sha256(data.slice(at, at + CHUNK))));
      expect(manifest).toMatchObject({
        key,
        size,
        sha256: toHex(await sha256(data)),
        chunk_size: CHUNK,
        chunks: expectedChunks,
        content_type: "application/x-test",
        keyid: "uploader",
        blob: `blobs/${manifest.version}`,
      });
      expect(manifest.version).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(await readCurrent(deps, key)).toEqual(manifest);
      expect(await storedVersion(deps.metadata, manifest.version)).toEqual(manifest);

      const verified = await openVerified(deps, manifest, { requestId: REQUEST_ID });
      // The status and headers functions/http/serve.ts sends with these bytes.
      const head = objectResponseHead(manifest);
      expect(head.status).toBe(200);
      expect(head.headers).toMatchObject({
        "Content-Length": String(size),
        ETag: `"${manifest.sha256}"`,
        "Repr-Digest": `sha-256=:${toBase64(await sha256(data))}:`,
        "Accept-Ranges": "bytes",
        "Content-Type": "application/x-test",
      });
      const { received, error } = await drain(verified);
      expect(error).toBeUndefined();
      expect(received.length).toBe(size);
      expect(firstDifference(received, data)).toBe(-1);
      expect(deps.log.lines("integrity_failure")).toEqual([]);
    });

    it.each([
      { name: "inside one chunk", range: { offset: 10, length: 100 } },
      { name: "across a chunk boundary", range: { offset: CHUNK - 5, length: 10 } },
      { name: "over three chunks to the end", range: { offset: CHUNK + 3, length: 2.5 * CHUNK - 3 } },
      { name: "the last byte", range: { offset: 3.5 * CHUNK - 1, length: 1 } },
      { name: "exactly one whole chunk", range: { offset: 2 * CHUNK, length: CHUNK } },
    ])("serves a verified 206 for a range $name", async ({ range }) => {
      const deps = depsFor(backend);
      const data = bytes(3.5 * CHUNK, 11);
      const manifest = await upload(deps, uniqueKey("ranged.bin"), data);
      const verified = await openVerified(deps, manifest, { span: range, requestId: REQUEST_ID });
      // The status and headers functions/http/serve.ts sends with these bytes.
      const head = objectResponseHead(manifest, range);
      expect(head.status).toBe(206);
      expect(head.headers["Content-Length"]).toBe(String(range.length));
      expect(head.headers["Content-Range"]).toBe(`bytes ${range.offset}-${range.offset + range.length - 1}/${data.length}`);
      const { received, error } = await drain(verified);
      expect(error).toBeUndefined();
      expect(received.length).toBe(range.length);
      expect(firstDifference(received, data.subarray(range.offset, range.offset + range.length))).toBe(-1);
    });
  });

  describe("failed uploads commit nothing and leave the old version readable", () => {
    async function withOldVersion(): Promise<{ deps: Deps; puts: string[]; key: string; old: Manifest; oldData: Uint8Array<ArrayBuffer> }> {
      const watched = watchingPuts(backend.storage);
      const deps = { ...depsFor(backend), storage: watched.storage };
      const key = uniqueKey("guarded.bin");
      const oldData = bytes(2 * CHUNK + 17, 3);
      const old = await upload(deps, key, oldData);
      return { deps, puts: watched.puts, key, old, oldData };
    }

    async function expectOldIntact(deps: Deps, key: string, old: Manifest, oldData: Uint8Array): Promise<void> {
      expect(await readCurrent(deps, key)).toEqual(old);
      expect(firstDifference(await readBack(deps, old), oldData)).toBe(-1);
    }

    it("refuses a body whose bytes differ from the expected digest (same length) as digest_mismatch", async () => {
      const { deps, puts, key, old, oldData } = await withOldVersion();
      const data = bytes(3 * CHUNK, 4);
      const attempt = upload(deps, key, data, { expectedSha256: await sha256(bytes(3 * CHUNK, 5)) });
      await expect(attempt).rejects.toMatchObject({ code: "digest_mismatch" });
      await expectNothingLeft(deps, puts.at(-1));
      await expectOldIntact(deps, key, old, oldData);
    });

    it("finds a digest mismatch itself when storage does not check the digest", async () => {
      const { deps, puts, key, old, oldData } = await withOldVersion();
      const inner = deps.storage;
      const unchecked = storageWith(inner, { put: (blobKey, body, { sha256: _ignored, ...options }) => inner.put(blobKey, body, options) });
      const data = bytes(CHUNK + 1, 6);
      const attempt = upload({ ...deps, storage: unchecked }, key, data, { expectedSha256: await sha256(bytes(CHUNK + 1, 7)) });
      await expect(attempt).rejects.toMatchObject({ code: "digest_mismatch" });
      await expectNothingLeft(deps, puts.at(-1));
      await expectOldIntact(deps, key, old, oldData);
    });

    it.each([
      { name: "ends one byte short", declared: 2 * CHUNK, sent: 2 * CHUNK - 1 },
      { name: "ends a chunk short", declared: 3 * CHUNK, sent: 2 * CHUNK },
      { name: "is empty while bytes were declared", declared: 10, sent: 0 },
    ])("refuses a body that $name as bad_request", async ({ declared, sent }) => {
      const { deps, puts, key, old, oldData } = await withOldVersion();
      const full = bytes(declared, 8);
      const attempt = upload(deps, key, full, { body: piecewise(full.slice(0, sent)) });
      await expect(attempt).rejects.toMatchObject({ code: "bad_request" });
      await expectNothingLeft(deps, puts.at(-1));
      await expectOldIntact(deps, key, old, oldData);
    });

    it("refuses a body whose stream is cut part way (a dropped connection) as bad_request", async () => {
      const { deps, puts, key, old, oldData } = await withOldVersion();
      const data = bytes(3 * CHUNK, 9);
      let sent = 0;
      const cut = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= CHUNK + 100) return controller.error(new Error("connection reset"));
          controller.enqueue(data.slice(sent, sent + 100));
          sent += 100;
        },
      });
      await expect(upload(deps, key, data, { body: cut })).rejects.toMatchObject({ code: "bad_request" });
      await expectNothingLeft(deps, puts.at(-1));
      await expectOldIntact(deps, key, old, oldData);
    });

    it.each([
      { name: "one byte past a chunk boundary", declared: CHUNK, sent: CHUNK + 1 },
      { name: "past a partial last chunk", declared: CHUNK + 10, sent: CHUNK + 20 },
      { name: "while none were declared", declared: 0, sent: 1 },
    ])("refuses a body that runs $name as bad_request", async ({ declared, sent }) => {
      const { deps, puts, key, old, oldData } = await withOldVersion();
      const sentBytes = bytes(sent, 10);
      const declaredBytes = sentBytes.slice(0, declared);
      const attempt = upload(deps, key, declaredBytes, { body: requestBody(sentBytes) });
      await expect(attempt).rejects.toMatchObject({ code: "bad_request" });
      await expectNothingLeft(deps, puts.at(-1));
      await expectOldIntact(deps, key, old, oldData);
    });

    it("refuses a declared length above the limit before the body is touched", async () => {
      const { deps, puts, key, old, oldData } = await withOldVersion();
      let pulled = false;
      const untouchable = new ReadableStream<Uint8Array>(
        {
          pull() {
            pulled = true;
            throw new Error("the body was read");
          },
        },
        { highWaterMark: 0 },
      );
      const attempt = putObject(deps, {
        key,
        body: untouchable,
        length: 4 * CHUNK + 1,
        expectedSha256: new Uint8Array(32),
        keyid: "uploader",
        chunkSize: CHUNK,
        maxObjectBytes: 4 * CHUNK,
        requestId: REQUEST_ID,
      });
      await expect(attempt).rejects.toMatchObject({ code: "too_large" });
      expect(pulled).toBe(false);
      expect(untouchable.locked).toBe(false);
      expect(puts).toHaveLength(1);
      await expectOldIntact(deps, key, old, oldData);
    });

    it("accepts a body of exactly the limit", async () => {
      const deps = depsFor(backend);
      const data = bytes(2 * CHUNK, 12);
      const manifest = await upload(deps, uniqueKey("at-limit.bin"), data, { maxObjectBytes: 2 * CHUNK });
      expect(manifest.size).toBe(2 * CHUNK);
    });
  });

  describe("preconditions", () => {
    it("If-None-Match: * creates a new key and refuses an existing one with already_exists", async () => {
      const deps = depsFor(backend);
      const key = uniqueKey("create-only.bin");
      const first = await upload(deps, key, bytes(100, 1), { ifNoneMatch: true });
      await expect(upload(deps, key, bytes(100, 2), { ifNoneMatch: true })).rejects.toMatchObject({ code: "already_exists" });
      expect(await readCurrent(deps, key)).toEqual(first);
    });

    it("If-Match replaces only the version it names, and fails on a missing key", async () => {
      const deps = depsFor(backend);
      const key = uniqueKey("compare-and-swap.bin");
      await expect(upload(deps, key, bytes(10, 1), { ifMatch: `"${"0".repeat(64)}"` })).rejects.toMatchObject({ code: "precondition_failed" });
      const first = await upload(deps, key, bytes(10, 1));
      await expect(upload(deps, key, bytes(10, 2), { ifMatch: `"${"0".repeat(64)}"` })).rejects.toMatchObject({ code: "precondition_failed" });
      await expect(upload(deps, key, bytes(10, 2), { ifMatch: `W/"${first.sha256}"` })).rejects.toMatchObject({ code: "precondition_failed" });
      expect(await readCurrent(deps, key)).toEqual(first);
      const second = await upload(deps, key, bytes(10, 2), { ifMatch: `"${first.sha256}"` });
      expect(await readCurrent(deps, key)).toEqual(second);
    });

    /** A body that lets `meanwhile` run to completion before it delivers a byte: a concurrent writer wins the race. */
    function bodyAfter(data: Uint8Array, meanwhile: () => Promise<unknown>): ReadableStream<Uint8Array> {
      let ran = false;
      const inner = piecewise(data).getReader();
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (!ran) {
              ran = true;
              await meanwhile();
            }
            const { value, done } = await inner.read();
            if (done) controller.close();
            else controller.enqueue(value);
          },
        },
        // Pulled only when the upload reads, so the first precondition check has already passed.
        { highWaterMark: 0 },
      );
    }

    it("re-checks If-Match before commit: a version committed during the upload makes it fail", async () => {
      const watched = watchingPuts(backend.storage);
      const deps = { ...depsFor(backend), storage: watched.storage };
      const key = uniqueKey("race.bin");
      const first = await upload(deps, key, bytes(CHUNK, 1));
      let winner: Manifest | undefined;
      const data = bytes(2 * CHUNK, 2);
      const body = bodyAfter(data, async () => (winner = await upload(deps, key, bytes(50, 3))));
      await expect(upload(deps, key, data, { body, ifMatch: `"${first.sha256}"` })).rejects.toMatchObject({ code: "precondition_failed" });
      expect(await readCurrent(deps, key)).toEqual(winner);
      await expectNothingLeft(
        deps,
        watched.puts.find((blob) => blob !== first.blob && blob !== winner?.blob),
      );
    });

    it("re-checks If-None-Match before commit: a key created during the upload makes it fail", async () => {
      const deps = depsFor(backend);
      const key = uniqueKey("race-create.bin");
      let winner: Manifest | undefined;
      const data = bytes(CHUNK + 5, 4);
      const body = bodyAfter(data, async () => (winner = await upload(deps, key, bytes(50, 5))));
      await expect(upload(deps, key, data, { body, ifNoneMatch: true })).rejects.toMatchObject({ code: "already_exists" });
      expect(await readCurrent(deps, key)).toEqual(winner);
    });

    // Issue #10, finding 8: every one of these writers committed, each over the one before.
    it.each([
      { header: "If-Match naming the current version", seeded: true, code: "precondition_failed" },
      { header: "If-None-Match: *", seeded: false, code: "already_exists" },
    ])(`commits exactly one of ${CONDITIONAL_WRITERS} concurrent uploads under $header, and discards the others' blobs`, async ({ seeded, code }) => {
      const watched = watchingPuts(backend.storage);
      const deps = { ...depsFor(backend), storage: watched.storage };
      const key = uniqueKey("conditional-race.bin");
      const first = seeded ? await upload(deps, key, bytes(10, 1)) : null;
      const condition = first ? { ifMatch: `"${first.sha256}"` } : { ifNoneMatch: true };
      const outcomes = await Promise.allSettled(Array.from({ length: CONDITIONAL_WRITERS }, (_, n) => upload(deps, key, bytes(20, 100 + n), condition)));
      const winners = outcomes.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
      expect(winners).toHaveLength(1);
      for (const outcome of outcomes) if (outcome.status === "rejected") expect(outcome.reason).toMatchObject({ code });
      expect(await readCurrent(deps, key)).toEqual(winners[0]);
      for (const blob of watched.puts.filter((put) => put !== first?.blob && put !== winners[0]?.blob)) await expectNothingLeft(deps, blob);
    });
  });

  describe("manifest v2: the digests of more than TREE_FANOUT chunks go to a digest tree", () => {
    /** Chunks this small make TREE_FANOUT of them a few KiB; the tree's shape follows from the chunk count alone. */
    const TINY_CHUNK = 16;

    async function treeUpload(size: number, extra: Partial<PutObjectInput> = {}) {
      const counted = countingStorage(backend.storage);
      const deps = { ...depsFor(backend), storage: counted };
      const data = bytes(size, size);
      const key = uniqueKey("tree.bin");
      const manifest = await upload(deps, key, data, { chunkSize: TINY_CHUNK, ...extra });
      return { deps, counted, data, key, manifest };
    }

    it("keeps exactly TREE_FANOUT digests inline (v1 form) and writes no page", async () => {
      const { deps, counted, data, manifest } = await treeUpload(TREE_FANOUT * TINY_CHUNK);
      expect(manifest.chunks).toHaveLength(TREE_FANOUT);
      expect(Object.keys(manifest)).not.toContain("tree");
      expect(counted.puts).toEqual([manifest.blob]);
      expect(firstDifference(await readBack(deps, manifest), data)).toBe(-1);
    });

    it("reads a v1 manifest as gateways before manifest v2 stored it", async () => {
      const deps = depsFor(backend);
      const data = bytes(2 * CHUNK + 5, 41);
      const blob = `blobs/${uniqueKey("v1").replace("/", "-")}`;
      await deps.storage.put(blob, requestBody(data), { length: data.length });
      const chunks = [toHex(await sha256(data.slice(0, CHUNK))), toHex(await sha256(data.slice(CHUNK, 2 * CHUNK))), toHex(await sha256(data.slice(2 * CHUNK)))];
      // Exactly the fields of a v1 manifest: `chunks`, no `tree`.
      const manifest: Manifest = {
        key: "v1.bin",
        version: "01JZ0000000000000000000000",
        size: data.length,
        sha256: toHex(await sha256(data)),
        chunk_size: CHUNK,
        chunks,
        content_type: "application/octet-stream",
        created_at: "2026-01-01T00:00:00.000Z",
        keyid: "uploader",
        blob,
      };
      expect(firstDifference(await readBack(deps, manifest), data)).toBe(-1);
      expect(firstDifference(await readBack(deps, manifest, { offset: CHUNK + 1, length: CHUNK }), data.subarray(CHUNK + 1, 2 * CHUNK + 1))).toBe(-1);
    });

    it("writes the pages of a tree above TREE_FANOUT chunks and commits a small manifest that reads back whole and by range", async () => {
      // 2,049 chunks, the last one short: three level-0 pages and the top page.
      const size = (2 * TREE_FANOUT + 1) * TINY_CHUNK - 3;
      const { deps, counted, data, key, manifest } = await treeUpload(size);
      const pages = treePagesPrefix(manifest.version);
      expect(manifest.chunks).toBeUndefined();
      expect(manifest.tree).toEqual({ root: expect.stringMatching(/^[0-9a-f]{64}$/), fanout: TREE_FANOUT, pages });
      expect(counted.puts.toSorted()).toEqual([manifest.blob, ...treePageKeys(manifest.tree!, 2 * TREE_FANOUT + 1)].toSorted());
      expect(treePageKeys(manifest.tree!, 2 * TREE_FANOUT + 1)).toEqual([`${pages}/0/0`, `${pages}/0/1`, `${pages}/0/2`, `${pages}/1/0`]);
      expect(JSON.stringify(manifest).length).toBeLessThan(600);
      expect(await readCurrent(deps, key)).toEqual(manifest);
      expect(await storedVersion(deps.metadata, manifest.version)).toEqual(manifest);

      expect(firstDifference(await readBack(deps, manifest), data)).toBe(-1);
      counted.gets.length = 0;
      const middle = { offset: 1500 * TINY_CHUNK + 3, length: 40 };
      expect(firstDifference(await readBack(deps, manifest, middle), data.subarray(middle.offset, middle.offset + middle.length))).toBe(-1);
      // The blob is opened while the first chunk's pages are fetched, top first.
      expect(counted.gets.filter((key) => key !== manifest.blob)).toEqual([`${pages}/1/0`, `${pages}/0/1`]);
      expect(counted.gets.filter((key) => key === manifest.blob)).toHaveLength(1);
      expect(deps.log.lines("integrity_failure")).toEqual([]);
    });

    it("removes the tree pages of a PUT refused after they were written, with its blob", async () => {
      const counted = countingStorage(backend.storage);
      const deps = { ...depsFor(backend), storage: counted };
      const size = (2 * TREE_FANOUT + 1) * TINY_CHUNK;
      const attempt = upload(deps, uniqueKey("tree-refused.bin"), bytes(size, 5), { chunkSize: TINY_CHUNK, expectedSha256: await sha256(bytes(size, 6)) });
      await expect(attempt).rejects.toMatchObject({ code: "digest_mismatch" });
      const [blob, ...pages] = counted.puts;
      // The two full level-0 pages went out while the body streamed; the rest would have been written at the end.
      expect(pages).toEqual([0, 1].map((page) => `${blob?.replace("blobs/", "trees/")}/0/${page}`));
      for (const page of pages) expect(await backend.storage.get(page)).toBeNull();
      await expectNothingLeft(deps, blob);
    });

    it.runIf(backend.name === "memory")("at the real chunk size too: TREE_FANOUT + 1 chunks of 64 KiB read back by range across pages", async () => {
      const size = (TREE_FANOUT + 1) * CHUNK + 100;
      const counted = countingStorage(backend.storage);
      const deps = { ...depsFor(backend), storage: counted };
      const data = bytes(size, 77);
      const manifest = await upload(deps, uniqueKey("tree-64k.bin"), data, { maxObjectBytes: size });
      const pages = treePagesPrefix(manifest.version);
      expect(manifest.tree).toMatchObject({ fanout: TREE_FANOUT, pages });
      expect(counted.puts).toEqual([manifest.blob, `${pages}/0/0`, `${pages}/0/1`, `${pages}/1/0`]);
      counted.gets.length = 0;
      const across = { offset: TREE_FANOUT * CHUNK - 10, length: CHUNK + 110 };
      expect(firstDifference(await readBack(deps, manifest, across), data.subarray(across.offset))).toBe(-1);
      expect(counted.gets.filter((key) => key !== manifest.blob)).toEqual([`${pages}/1/0`, `${pages}/0/0`, `${pages}/0/1`]);
      expect(counted.gets.filter((key) => key === manifest.blob)).toHaveLength(1);
    });
  });

  it("never overwrites bytes a manifest points to: each version gets its own blob", async () => {
    const deps = depsFor(backend);
    const key = uniqueKey("versions.bin");
    const firstData = bytes(CHUNK + 3, 21);
    const first = await upload(deps, key, firstData);
    deps.time.now += 1;
    const secondData = bytes(CHUNK + 3, 22);
    const second = await upload(deps, key, secondData);
    expect(second.version).not.toBe(first.version);
    expect(second.blob).not.toBe(first.blob);
    expect(second.version > first.version).toBe(true);
    const stored = await deps.storage.get(first.blob);
    expect(firstDifference(new Uint8Array(await new Response(stored?.body).arrayBuffer()), firstData)).toBe(-1);
    expect(await storedVersion(deps.metadata, first.version)).toEqual(first);
    expect(firstDifference(await readBack(deps, first), firstData)).toBe(-1);
    expect(firstDifference(await readBack(deps, second), secondData)).toBe(-1);
  });

  describe("tampered storage: no unverified byte is ever delivered", () => {
    const size = 3.5 * CHUNK;
    const original = bytes(size, 31);
    const flipped = (at: number) => {
      const copy = original.slice();
      copy[at] = (copy[at] ?? 0) ^ 0xff;
      return copy;
    };
    /** `badChunks` null: the stored size differs, which is caught before any chunk is read. */
    const tampers: { name: string; stored: () => Uint8Array<ArrayBuffer>; badChunks: number[] | null }[] = [
      { name: "first chunk altered", stored: () => flipped(10), badChunks: [0] },
      { name: "middle chunk altered", stored: () => flipped(2 * CHUNK + 5), badChunks: [2] },
      { name: "last chunk altered", stored: () => flipped(size - 1), badChunks: [3] },
      { name: "truncated", stored: () => original.slice(0, size - 100), badChunks: null },
      { name: "extended", stored: () => new Uint8Array([...original, 0]), badChunks: null },
      { name: "empty", stored: () => new Uint8Array(0), badChunks: null },
      { name: "another object's bytes", stored: () => bytes(size, 32), badChunks: [0, 1, 2, 3] },
    ];
    const reads: { name: string; range: ByteRange | undefined }[] = [
      { name: "whole object", range: undefined },
      { name: "range in chunk 0", range: { offset: 5, length: 100 } },
      { name: "range over chunks 1-3", range: { offset: CHUNK + 10, length: 2 * CHUNK } },
      { name: "range in chunk 2", range: { offset: 2 * CHUNK + 100, length: 50 } },
      { name: "suffix range in chunk 3", range: { offset: size - 10, length: 10 } },
    ];

    it.each(tampers.flatMap((tamper) => reads.map((read) => ({ ...tamper, ...read, label: `${tamper.name}, ${read.name}` }))))(
      "$label",
      async ({ stored, badChunks, range }) => {
        const deps = depsFor(backend);
        const manifest = await upload(deps, uniqueKey("tampered.bin"), original);
        const tamperedBytes = stored();
        await backend.tamper(manifest.blob, tamperedBytes);

        const span = range ?? { offset: 0, length: size };
        const expected = original.subarray(span.offset, span.offset + span.length);
        const firstChunk = Math.floor(span.offset / CHUNK);
        const lastChunk = Math.floor((span.offset + span.length - 1) / CHUNK);
        const badChunk = badChunks === null ? null : badChunks.find((index) => index >= firstChunk && index <= lastChunk);
        const touched = badChunk !== undefined;

        let received: Uint8Array = new Uint8Array(0);
        let failedAtOpen = false;
        let streamError: unknown;
        try {
          const verified = await openVerified(deps, manifest, { span: range, requestId: REQUEST_ID });
          ({ received, error: streamError } = await drain(verified));
        } catch (error) {
          failedAtOpen = true;
          expect(error).toMatchObject({ code: "integrity_failure" });
        }

        expect(firstDifference(received, expected)).toBe(-1);
        const failures = deps.log.lines("integrity_failure");
        if (!touched) {
          expect(failedAtOpen).toBe(false);
          expect(streamError).toBeUndefined();
          expect(received.length).toBe(span.length);
          expect(failures).toEqual([]);
          return;
        }
        expect(failures).toHaveLength(1);
        expect(failures[0]).toMatchObject({ level: "error", key: manifest.key, version: manifest.version, request_id: REQUEST_ID, chunk: badChunk });
        if (badChunk === null) {
          expect(failedAtOpen).toBe(true);
          expect(failures[0]).toMatchObject({ reason: "size_mismatch", expected_size: size, actual_size: tamperedBytes.length });
          return;
        }
        const storedChunk = tamperedBytes.slice(badChunk * CHUNK, (badChunk + 1) * CHUNK);
        expect(failures[0]).toMatchObject({ expected: manifest.chunks?.[badChunk], actual: toHex(await sha256(storedChunk)) });
        if (badChunk === firstChunk) {
          expect(failedAtOpen).toBe(true);
        } else {
          expect(failedAtOpen).toBe(false);
          expect(streamError).toBeDefined();
          expect(received.length).toBeLessThanOrEqual(badChunk * CHUNK - span.offset);
        }
      },
    );

    /** Storage that reports the true size but whose stream misbehaves after `cutAt` bytes of the object. */
    function misbehaving(inner: ObjectStorage, cutAt: number, how: "end" | "error"): ObjectStorage {
      return storageWith(inner, {
        async get(blobKey, range) {
          const blob = await inner.get(blobKey, range);
          if (!blob) return null;
          const all = new Uint8Array(await new Response(blob.body).arrayBuffer());
          let sent = false;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (!sent) {
                sent = true;
                return controller.enqueue(all.slice(0, cutAt - (range?.offset ?? 0)));
              }
              if (how === "end") controller.close();
              else controller.error(new Error("storage connection lost"));
            },
          });
          return { body, size: blob.size };
        },
      });
    }

    it("catches a stream that ends early while the size was reported right (short chunk), mid-stream", async () => {
      const deps = depsFor(backend);
      const manifest = await upload(deps, uniqueKey("short-stream.bin"), original);
      const lying = { ...deps, storage: misbehaving(deps.storage, 2 * CHUNK + 7, "end") };
      const verified = await openVerified(lying, manifest, { requestId: REQUEST_ID });
      const { received, error } = await drain(verified);
      expect(error).toBeDefined();
      expect(received.length).toBeLessThanOrEqual(2 * CHUNK);
      expect(firstDifference(received, original)).toBe(-1);
      expect(deps.log.lines("integrity_failure")).toMatchObject([{ chunk: 2, reason: "short_chunk" }]);
    });

    it("ends the body short when storage fails mid-stream, logging an interruption rather than an integrity failure", async () => {
      const deps = depsFor(backend);
      const manifest = await upload(deps, uniqueKey("storage-error.bin"), original);
      const failing = { ...deps, storage: misbehaving(deps.storage, CHUNK + 7, "error") };
      const verified = await openVerified(failing, manifest, { requestId: REQUEST_ID });
      const { received, error } = await drain(verified);
      expect(error).toBeDefined();
      expect(received.length).toBeLessThanOrEqual(CHUNK);
      expect(firstDifference(received, original)).toBe(-1);
      expect(deps.log.lines("integrity_failure")).toEqual([]);
      expect(deps.log.lines("download_interrupted")).toMatchObject([{ request_id: REQUEST_ID }]);
    });

    it("stops reading storage when the client goes away mid-body, logging the interruption", async () => {
      const deps = depsFor(backend);
      const manifest = await upload(deps, uniqueKey("abandoned.bin"), original);
      let canceled = false;
      const watched = storageWith(deps.storage, {
        async get(blobKey, range) {
          const blob = await deps.storage.get(blobKey, range);
          if (!blob) return null;
          const source = blob.body.getReader();
          const body = new ReadableStream<Uint8Array>({
            pull: async (controller) => {
              const { value, done } = await source.read();
              if (done) controller.close();
              else controller.enqueue(value);
            },
            cancel: (reason) => {
              canceled = true;
              return source.cancel(reason);
            },
          });
          return { body, size: blob.size };
        },
      });
      const verified = await openVerified({ ...deps, storage: watched }, manifest, { requestId: REQUEST_ID });
      const reader = verified.getReader();
      const { value } = await reader.read();
      expect(firstDifference(value ?? new Uint8Array(0), original)).toBe(-1);
      await reader.cancel(new Error("client went away"));
      await expect.poll(() => canceled).toBe(true);
      expect(deps.log.lines("download_interrupted")).toMatchObject([{ request_id: REQUEST_ID }]);
      expect(deps.log.lines("integrity_failure")).toEqual([]);
    });

    it("answers integrity_failure when the blob is gone", async () => {
      const deps = depsFor(backend);
      const manifest = await upload(deps, uniqueKey("vanished.bin"), original);
      await deps.storage.delete(manifest.blob);
      await expect(openVerified(deps, manifest, { requestId: REQUEST_ID })).rejects.toMatchObject({ code: "integrity_failure" });
      expect(deps.log.lines("integrity_failure")).toMatchObject([{ chunk: null, reason: "blob_missing" }]);
    });
  });
});
