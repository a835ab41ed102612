import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/crypto/encoding.ts";
import { isVerigateError } from "../../shared/errors/index.ts";
import { openVerified } from "../../shared/objects/download.ts";
import { GC_GRACE_MS } from "../../shared/objects/garbage.ts";
import { currentKey, readCurrent, type Manifest } from "../../shared/objects/manifest.ts";
import { putObject } from "../../shared/objects/upload.ts";
import type { ObjectStorage } from "../../shared/storage/index.ts";
import { abortUpload } from "../../shared/uploads/abort.ts";
import { ownSession } from "../../shared/uploads/access.ts";
import { completeUpload } from "../../shared/uploads/complete.ts";
import { COMPLETE_CALL_MS, COMPLETE_LEASE_MS } from "../../shared/uploads/complete.ts";
import { partSizeFor } from "../../shared/uploads/layout.ts";
import { registerPart } from "../../shared/uploads/parts.ts";
import { sweepUploadSessions } from "../../shared/uploads/sweep.ts";
import { storageWith } from "../support/store-overrides.ts";
import { bytes, CHUNK, drain, firstDifference, putBytes, requestBody, sha256, uniqueKey, storedVersion } from "./support/objects-fixtures.ts";
import { completeAll, LIMITS, openSession, PART, partOf, sendPart, sendParts, sessionDeps, type SessionDeps } from "./support/uploads-fixtures.ts";

/** Two whole parts and a short last one: every part rule (equal parts, a shorter last) is exercised. */
const SIZE = 2 * PART + 3 * CHUNK + 123;
/** Large enough that one call verifies everything. */
const WHOLE = 1024 * PART;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isVerigateError(error)) return error.code;
    throw error;
  }
  throw new Error("expected a refusal");
}

async function readBack(deps: SessionDeps, manifest: Manifest): Promise<Uint8Array> {
  const { received, error } = await drain(await openVerified(deps, manifest, { requestId: "req-uploads" }));
  expect(error).toBeUndefined();
  return received;
}

function putSmall(deps: SessionDeps, key: string, data: Uint8Array<ArrayBuffer>): Promise<Manifest> {
  return putBytes(deps, key, data);
}

/** The chunk digests a one-PUT upload of `data` would hold. */
async function chunkDigests(data: Uint8Array<ArrayBuffer>): Promise<string[]> {
  const out: string[] = [];
  for (let at = 0; at < data.length; at += CHUNK) out.push(toHex(await sha256(data.slice(at, at + CHUNK))));
  return out;
}

describe("part layout", () => {
  it("uses the configured part size until 10,000 parts would not hold the object, then whole chunks above it", () => {
    expect(partSizeFor(SIZE, CHUNK, PART)).toBe(PART);
    expect(partSizeFor(10_000 * PART, CHUNK, PART)).toBe(PART);
    const larger = partSizeFor(10_000 * PART + 1, CHUNK, PART);
    expect(larger).toBe(PART + CHUNK);
    expect(Math.ceil((10_000 * PART + 1) / larger)).toBeLessThanOrEqual(10_000);
  });
});

describe("upload sessions on memory backends", () => {
  it("create, parts out of order, complete: the object reads back byte-identical with the digests a PUT would hold", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 11);
    const key = uniqueKey("session.bin");
    const session = await openSession(deps, key, data, { contentType: "application/x-test" });
    expect(session).toMatchObject({ state: "open", size: SIZE, part_size: PART, part_count: 3, chunk_size: CHUNK });
    expect(await readCurrent(deps, key)).toBeNull();

    await sendParts(deps, session, data, [3, 1, 2]);
    expect((await deps.uploads.listParts(session.id)).map((part) => [part.part, part.size])).toEqual([
      [1, PART],
      [2, PART],
      [3, 3 * CHUNK + 123],
    ]);
    const { body, answers } = await completeAll(deps, session.id, WHOLE);
    expect(answers).toHaveLength(1);
    expect(body).toEqual({ key, version: session.version, size: SIZE, sha256: session.sha256, chunk_size: CHUNK, etag: `"${session.sha256}"` });

    const manifest = await readCurrent(deps, key);
    expect(manifest).toMatchObject({ version: session.version, content_type: "application/x-test", keyid: "uploader", blob: session.blob });
    expect(manifest?.chunks).toEqual(await chunkDigests(data));
    expect(firstDifference(await readBack(deps, manifest as Manifest), data)).toBe(-1);
    expect((await deps.uploads.get(session.id))?.state).toBe("completed");
  });

  it("a part sent twice: the last one sent is the one stored", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 12);
    const session = await openSession(deps, uniqueKey("twice.bin"), data);
    await sendPart(deps, session, 2, bytes(PART, 99));
    await sendParts(deps, session, data);
    expect((await deps.uploads.listParts(session.id))[1]?.sha256).toBe(toHex(await sha256(partOf(session, data, 2))));
    const { body } = await completeAll(deps, session.id, WHOLE);
    expect(firstDifference(await readBack(deps, (await storedVersion(deps.metadata, body.version)) as Manifest), data)).toBe(-1);
  });

  it("a part whose bytes differ from its signed digest is refused and records nothing", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 13);
    const session = await openSession(deps, uniqueKey("wrong-digest.bin"), data);
    expect(await codeOf(sendPart(deps, session, 1, partOf(session, data, 1), bytes(PART, 5)))).toBe("digest_mismatch");
    expect(await deps.uploads.listParts(session.id)).toEqual([]);
  });

  it("a part of the wrong length is refused before any byte is read", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 14);
    const session = await openSession(deps, uniqueKey("short.bin"), data);
    expect(await codeOf(sendPart(deps, session, 3, bytes(3 * CHUNK, 1)))).toBe("bad_request");
    expect(await deps.uploads.listParts(session.id)).toEqual([]);
  });

  it("complete with a part missing is upload_incomplete, names the part, and leaves the session open", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 15);
    const session = await openSession(deps, uniqueKey("missing.bin"), data);
    await sendParts(deps, session, data, [1, 3]);
    const refused = await completeUpload(deps, session, { sliceBytes: WHOLE, requestId: "r" }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "upload_incomplete", publicDetail: "parts not stored: 2" });
    expect((await deps.uploads.get(session.id))?.state).toBe("open");
  });

  it("resumes verification across calls (202 then 201) and commits what a one-call complete commits", async () => {
    const data = bytes(SIZE, 16);
    const sliced = sessionDeps();
    const key = uniqueKey("sliced.bin");
    const session = await openSession(sliced, key, data);
    await sendParts(sliced, session, data);
    const { answers } = await completeAll(sliced, session.id, 3 * CHUNK);
    const pending = answers.slice(0, -1);
    expect(pending.length).toBe(Math.ceil(SIZE / (3 * CHUNK)) - 1);
    expect(pending.every((answer) => !answer.done && answer.retryAfterSeconds === 0)).toBe(true);
    const verified = pending.map((answer) => (answer.done ? -1 : answer.body.verified_bytes));
    expect(verified).toEqual(verified.map((_, i) => (i + 1) * 3 * CHUNK));
    expect(answers.at(-1)?.done).toBe(true);

    const whole = sessionDeps();
    const one = await openSession(whole, key, data);
    await sendParts(whole, one, data);
    await completeAll(whole, one.id, WHOLE);
    const [slicedManifest, wholeManifest] = [await readCurrent(sliced, key), await readCurrent(whole, key)];
    expect(slicedManifest?.chunks).toEqual(wholeManifest?.chunks);
    expect(slicedManifest?.sha256).toBe(wholeManifest?.sha256);
    expect(firstDifference(await readBack(sliced, slicedManifest as Manifest), data)).toBe(-1);
  });

  it("a call past its time budget checkpoints at the next chunk and answers 202; the calls after it go on from there", async () => {
    const time = { now: 0 };
    const deps = sessionDeps((storage) =>
      storageWith(storage, {
        // Every read of the assembled object takes a whole call's budget: each call then verifies one chunk.
        get: (key, range) => ((time.now += COMPLETE_CALL_MS), storage.get(key, range)),
      }),
    );
    deps.clock = () => time.now;
    time.now = deps.time.now;
    const data = bytes(5 * CHUNK - 7, 30);
    const session = await openSession(deps, uniqueKey("budget.bin"), data);
    expect(session.part_count).toBe(1);
    await sendParts(deps, session, data);
    const { body, answers } = await completeAll(deps, session.id, WHOLE);
    expect(answers.map((answer) => (answer.done ? "201" : `${answer.retryAfterSeconds}:${answer.body.verified_bytes}`))).toEqual([
      `0:${CHUNK}`,
      `0:${2 * CHUNK}`,
      `0:${3 * CHUNK}`,
      `0:${4 * CHUNK}`,
      "201",
    ]);
    expect((await storedVersion(deps.metadata, body.version))?.chunks).toEqual(await chunkDigests(data));
  });

  it("two concurrent completes commit once, and both end with the same 201", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 17);
    const key = uniqueKey("concurrent.bin");
    const session = await openSession(deps, key, data);
    await sendParts(deps, session, data);
    const swaps = countSwaps(deps, key);
    const [a, b] = await Promise.all([completeAll(deps, session.id, 4 * CHUNK), completeAll(deps, session.id, 4 * CHUNK)]);
    expect(a.body).toEqual(b.body);
    expect(swaps).toHaveLength(1);
    expect((await readCurrent(deps, key))?.version).toBe(session.version);
  });

  it("a complete while another holds the lease answers pending with Retry-After 1, and takes over once the lease lapsed", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 18);
    const session = await openSession(deps, uniqueKey("lease.bin"), data);
    await sendParts(deps, session, data);
    const held = { ...session, rev: session.rev + 1, state: "verifying" as const, lease: { holder: "crashed", until_ms: deps.time.now + COMPLETE_LEASE_MS } };
    expect(await deps.uploads.update(held, session.rev)).toBe(true);
    const waiting = await completeUpload(deps, held, { sliceBytes: WHOLE, requestId: "r" });
    expect(waiting).toEqual({ done: false, body: { state: "verifying", verified_bytes: 0, size: SIZE }, retryAfterSeconds: 1 });
    deps.time.now += COMPLETE_LEASE_MS + 1;
    const { body } = await completeAll(deps, session.id, WHOLE);
    expect(body.version).toBe(session.version);
  });

  it("a complete cut off between its commit and its record is finished by the next one, without a second commit", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 19);
    const key = uniqueKey("interrupted-commit.bin");
    const session = await openSession(deps, key, data);
    await sendParts(deps, session, data);
    const swaps = countSwaps(deps, key);
    const update = deps.uploads.update.bind(deps.uploads);
    deps.uploads.update = async (next, rev) => {
      if (next.state === "completed") throw new Error("session store unreachable");
      return update(next, rev);
    };
    await expect(completeAll(deps, session.id, WHOLE)).rejects.toThrow("session store unreachable");
    expect((await readCurrent(deps, key))?.version).toBe(session.version);
    deps.uploads.update = update;

    const held = (await deps.uploads.get(session.id))!;
    expect(held.state).toBe("committing");
    expect(await completeUpload(deps, held, { sliceBytes: WHOLE, requestId: "r" })).toMatchObject({ done: false, retryAfterSeconds: 1 });
    deps.time.now += COMPLETE_LEASE_MS + 1;
    const { body } = await completeAll(deps, session.id, WHOLE);
    expect(body.version).toBe(session.version);
    expect((await deps.uploads.get(session.id))?.state).toBe("completed");
    expect(swaps).toHaveLength(1);
  });

  it("an assembled object altered in storage is refused (digest_mismatch): nothing visible, the previous version reads back", async () => {
    let alter = false;
    const deps = sessionDeps((storage) => alteringAfterAssembly(storage, () => alter));
    const key = uniqueKey("altered.bin");
    const previous = await putSmall(deps, key, bytes(1000, 3));
    const data = bytes(SIZE, 20);
    const session = await openSession(deps, key, data);
    await sendParts(deps, session, data);
    alter = true;
    expect(await codeOf(completeAll(deps, session.id, WHOLE))).toBe("digest_mismatch");
    expect((await readCurrent(deps, key))?.version).toBe(previous.version);
    expect(firstDifference(await readBack(deps, previous), bytes(1000, 3))).toBe(-1);
    expect(await storedVersion(deps.metadata, session.version)).toBeNull();
    expect(await deps.storage.get(session.blob)).toBeNull();
    expect(await deps.uploads.get(session.id)).toMatchObject({ state: "failed", failure: { code: "digest_mismatch" } });
    expect(await codeOf(completeAll(deps, session.id, WHOLE))).toBe("digest_mismatch");
  });

  it("a part replaced in storage behind its record: the store refuses to assemble, the session is open again, and a resent part completes", async () => {
    const deps = sessionDeps();
    const key = uniqueKey("replaced-part.bin");
    const data = bytes(SIZE, 21);
    const session = await openSession(deps, key, data);
    await sendParts(deps, session, data);
    const other = bytes(PART, 22);
    await deps.storage.multipart.uploadPart(session.blob, session.storage_upload_id, 2, requestBody(other), { length: PART, sha256: await sha256(other) });
    expect(await codeOf(completeAll(deps, session.id, WHOLE))).toBe("internal");
    expect(await readCurrent(deps, key)).toBeNull();
    const reopened = await deps.uploads.get(session.id);
    expect(reopened?.state).toBe("open");
    await sendPart(deps, reopened!, 2, partOf(session, data, 2));
    const { body } = await completeAll(deps, session.id, WHOLE);
    expect(firstDifference(await readBack(deps, (await storedVersion(deps.metadata, body.version)) as Manifest), data)).toBe(-1);
  });

  it("If-None-Match: * is refused at create when the key exists, and at commit when someone committed in between", async () => {
    const deps = sessionDeps();
    const key = uniqueKey("if-none-match.bin");
    const data = bytes(SIZE, 23);
    const session = await openSession(deps, key, data, { ifNoneMatch: true });
    await sendParts(deps, session, data);
    const other = await putSmall(deps, key, bytes(500, 4));
    expect(await codeOf(openSession(deps, key, data, { ifNoneMatch: true }))).toBe("already_exists");
    expect(await codeOf(completeAll(deps, session.id, WHOLE))).toBe("already_exists");
    expect((await readCurrent(deps, key))?.version).toBe(other.version);
    expect(await deps.uploads.get(session.id)).toMatchObject({ state: "failed", failure: { code: "already_exists" } });
  });

  it("a writer landing between the commit's read and its swap is not overwritten: the swap itself enforces If-None-Match", async () => {
    const deps = sessionDeps();
    const key = uniqueKey("race.bin");
    const data = bytes(SIZE, 29);
    const session = await openSession(deps, key, data, { ifNoneMatch: true });
    await sendParts(deps, session, data);
    const swap = deps.metadata.swap.bind(deps.metadata);
    let raced: Manifest | undefined;
    deps.metadata.swap = async (swapped, ...rest) => {
      if (swapped === currentKey(key) && !raced) {
        deps.metadata.swap = swap;
        raced = await putSmall(deps, key, bytes(700, 7));
      }
      return swap(swapped, ...rest);
    };
    expect(await codeOf(completeAll(deps, session.id, WHOLE))).toBe("already_exists");
    expect((await readCurrent(deps, key))?.version).toBe(raced?.version);
  });

  it("If-Match naming the version current at create is refused at commit once another version replaced it", async () => {
    const deps = sessionDeps();
    const key = uniqueKey("if-match.bin");
    const first = await putSmall(deps, key, bytes(500, 5));
    const data = bytes(SIZE, 24);
    const session = await openSession(deps, key, data, { ifMatch: `"${first.sha256}"` });
    await sendParts(deps, session, data);
    const second = await putSmall(deps, key, bytes(500, 6));
    expect(await codeOf(completeAll(deps, session.id, WHOLE))).toBe("precondition_failed");
    expect((await readCurrent(deps, key))?.version).toBe(second.version);
  });

  it("a declared size above the limit is too_large naming the limit, before anything is created", async () => {
    const deps = sessionDeps();
    const refused = await openSession(deps, uniqueKey("huge.bin"), bytes(1, 1), { size: LIMITS.maxUploadSessionBytes + 1 }).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      code: "too_large",
      publicDetail: `${LIMITS.maxUploadSessionBytes + 1} bytes declared; the limit for an upload session is ${LIMITS.maxUploadSessionBytes}`,
    });
    expect((await deps.metadata.list("")).keys).toEqual([]);
  });

  it("a session is not found by another keyid, by a malformed id, or once expired", async () => {
    const deps = sessionDeps();
    const session = await openSession(deps, uniqueKey("owned.bin"), bytes(SIZE, 25));
    expect((await ownSession(deps.uploads, session.id, "uploader", deps.time.now)).id).toBe(session.id);
    expect(await codeOf(ownSession(deps.uploads, session.id, "someone-else", deps.time.now))).toBe("not_found");
    expect(await codeOf(ownSession(deps.uploads, session.id.toLowerCase(), "uploader", deps.time.now))).toBe("not_found");
    expect(await codeOf(ownSession(deps.uploads, session.id, "uploader", Date.parse(session.expires_at)))).toBe("not_found");
  });

  it("abort drops the parts, the assembled blob and the session; a committing or completed session is upload_closed", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 26);
    const session = await openSession(deps, uniqueKey("abort.bin"), data);
    await sendParts(deps, session, data);
    await completeUpload(deps, session, { sliceBytes: CHUNK, requestId: "r" });
    expect(await deps.storage.get(session.blob)).not.toBeNull();
    await abortUpload(deps, (await deps.uploads.get(session.id))!);
    expect(await deps.uploads.get(session.id)).toBeNull();
    expect(await deps.storage.get(session.blob)).toBeNull();
    await expect(sendPart(deps, session, 1, partOf(session, data, 1))).rejects.toThrow();

    const done = await openSession(deps, uniqueKey("abort-done.bin"), data);
    await sendParts(deps, done, data);
    await completeAll(deps, done.id, WHOLE);
    expect(await codeOf(abortUpload(deps, (await deps.uploads.get(done.id))!))).toBe("upload_closed");
    expect(await deps.storage.get(done.blob)).not.toBeNull();
  });

  it("parts are refused once complete started (upload_closed); a direct part is recorded at the part's size", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 27);
    const session = await openSession(deps, uniqueKey("closed.bin"), data);
    const direct = await registerPart(deps, session, 3, { sha256: "ab".repeat(32), etag: '"e"' });
    expect(direct).toEqual({ part: 3, size: 3 * CHUNK + 123, sha256: "ab".repeat(32), etag: '"e"' });
    await sendParts(deps, session, data);
    await completeUpload(deps, session, { sliceBytes: CHUNK, requestId: "r" });
    const verifying = (await deps.uploads.get(session.id))!;
    expect(await codeOf(sendPart(deps, verifying, 1, partOf(session, data, 1)))).toBe("upload_closed");
  });

  it("the sweep removes an expired session's parts, assembled blob and record, and only the record of a completed one", async () => {
    const deps = sessionDeps();
    const data = bytes(SIZE, 28);
    const stale = await openSession(deps, uniqueKey("stale.bin"), data);
    await sendParts(deps, stale, data);
    await completeUpload(deps, stale, { sliceBytes: CHUNK, requestId: "r" });
    const done = await openSession(deps, uniqueKey("done.bin"), data);
    await sendParts(deps, done, data);
    await completeAll(deps, done.id, WHOLE);

    const expiry = Date.parse(stale.expires_at);
    expect(await sweepUploadSessions(deps, expiry + GC_GRACE_MS - 1)).toEqual({ swept: 0, failed: 0, more: false });
    expect(await sweepUploadSessions(deps, expiry + GC_GRACE_MS + 1)).toEqual({ swept: 2, failed: 0, more: false });
    expect(await deps.uploads.get(stale.id)).toBeNull();
    expect(await deps.storage.get(stale.blob)).toBeNull();
    await expect(sendPart(deps, stale, 1, partOf(stale, data, 1))).rejects.toThrow();
    expect(await deps.uploads.get(done.id)).toBeNull();
    const kept = await readCurrent(deps, done.key);
    expect(firstDifference(await readBack(deps, kept as Manifest), data)).toBe(-1);
    expect((await deps.metadata.list("gcu:")).keys).toEqual([]);
  });
});

/** Records every swap of `key`'s current manifest: each one is a commit. */
function countSwaps(deps: SessionDeps, key: string): string[] {
  const swaps: string[] = [];
  const swap = deps.metadata.swap.bind(deps.metadata);
  deps.metadata.swap = (swapped, ...rest) => {
    if (swapped === currentKey(key)) swaps.push(swapped);
    return swap(swapped, ...rest);
  };
  return swaps;
}

/** Storage that, once `alter()` says so, flips one byte of every blob the multipart API assembles: storage misbehaving at rest. */
function alteringAfterAssembly(storage: ObjectStorage, alter: () => boolean): ObjectStorage {
  return storageWith(storage, {
    multipart: {
      create: (key, options) => storage.multipart.create(key, options),
      uploadPart: (key, id, part, body, options) => storage.multipart.uploadPart(key, id, part, body, options),
      abort: (key, id) => storage.multipart.abort(key, id),
      async complete(key, id, parts) {
        await storage.multipart.complete(key, id, parts);
        if (!alter()) return;
        const stored = await storage.get(key);
        const assembled = new Uint8Array(await new Response(stored?.body).arrayBuffer());
        assembled[PART + 7] = (assembled[PART + 7] ?? 0) ^ 1;
        await storage.put(key, new Blob([assembled]).stream(), { length: assembled.length });
      },
    },
  });
}
