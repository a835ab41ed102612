import { describe, expect, it } from "vitest";
import { newVersion } from "../../shared/objects/version.ts";
import type { SessionPart, UploadSession, UploadSessionBackendName, UploadSessionStore } from "../../shared/uploads/store.ts";

/** The part count R2 and S3 allow at most: a session's part list must come back whole and in order at that size. */
const MAX_PARTS = 10_000;
/** Writers racing one compare-and-set; more than the two a real race needs, so a lost update cannot pass by luck. */
const CAS_RACE = 8;
/** The most the digest tree builder's state may take in `progress` (design: about 150 KB at any object size). */
const PROGRESS_BYTES = 150 * 1024;
/** Parts of the 10,000-part case always sent through `putPart`, out of order, whatever fills the rest. */
const THROUGH_PUT_PART = 20;
/** putPart calls in flight at once while filling a session: a client uploads a handful of parts in parallel. */
const PUT_PART_CONCURRENCY = 16;

/** What a backend declares about itself. */
export interface UploadSessionStoreCapabilities {
  backend: UploadSessionBackendName;
  /**
   * A faster way than one `putPart` per part to record the bulk of the 10,000 parts, where the store's own calls
   * would take tens of seconds (measured: about 20 s each on the Durable Object and on dynalite, load 5 on 2 cores).
   * The case still sends its last parts and a replacement through `putPart`.
   */
  fillParts?: { how: string; fill(id: string, parts: SessionPart[]): Promise<void> };
}

/** A fresh session as create stores it; ids have the upload id's shape and never repeat across cases. */
export function newSession(overrides: Partial<UploadSession> = {}): UploadSession {
  const id = newVersion(Date.now());
  const version = newVersion(Date.now());
  return {
    id,
    rev: 1,
    state: "open",
    key: `contract/${id}.bin`,
    size: 40 * 1024 * 1024,
    sha256: "ab".repeat(32),
    content_type: "application/octet-stream",
    keyid: "contract-writer",
    chunk_size: 1024 * 1024,
    part_size: 16 * 1024 * 1024,
    part_count: 3,
    version,
    blob: `blobs/${version}`,
    storage_upload_id: `multipart-${id}`,
    if_none_match: false,
    if_match: null,
    created_at: "2026-11-30T12:00:00.000Z",
    expires_at: "2026-12-01T12:00:00.000Z",
    lease: null,
    progress: null,
    result: null,
    failure: null,
    ...overrides,
  };
}

export function partOf(part: number, sha256 = part.toString(16).padStart(64, "0")): SessionPart {
  return { part, size: 16 * 1024 * 1024, sha256, etag: `"etag-${part}-${sha256.slice(0, 8)}"` };
}

/** Runs `task` for 1..count with at most `concurrency` in flight. */
async function forEachPart(count: number, concurrency: number, task: (part: number) => Promise<unknown>): Promise<void> {
  let next = 1;
  const worker = async () => {
    for (let part = next++; part <= count; part = next++) await task(part);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** The behaviour every `UploadSessionStore` backend must show; each backend's test file calls this once. */
export function describeUploadSessionStoreContract(
  name: string,
  make: () => UploadSessionStore | Promise<UploadSessionStore>,
  capabilities: UploadSessionStoreCapabilities,
): void {
  describe(`UploadSessionStore contract: ${name}`, () => {
    it(`reports backend "${capabilities.backend}"`, async () => {
      expect((await make()).backend).toBe(capabilities.backend);
    });

    it("knows nothing of a session never created: get null, no parts, update and putPart false, delete succeeds", async () => {
      const store = await make();
      const session = newSession();
      expect(await store.get(session.id)).toBeNull();
      expect(await store.listParts(session.id)).toEqual([]);
      expect(await store.update({ ...session, rev: 2 }, 1)).toBe(false);
      expect(await store.putPart(session.id, partOf(1))).toBe(false);
      await expect(store.delete(session.id)).resolves.toBeUndefined();
      expect(await store.get(session.id)).toBeNull();
      expect(await store.listParts(session.id)).toEqual([]);
    });

    it("creates a session once: a second create of the id is false and keeps the first", async () => {
      const store = await make();
      const session = newSession();
      expect(await store.create(session)).toBe(true);
      expect(await store.create({ ...session, key: "contract/other.bin" })).toBe(false);
      expect(await store.get(session.id)).toEqual(session);
    });

    it("get returns what the last successful update wrote, and an update from a superseded rev is false", async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      const verifying = {
        ...session,
        rev: 2,
        state: "verifying" as const,
        lease: { holder: "complete-a", until_ms: 1_800_000_000_000 },
        progress: { offset: 0 },
      };
      expect(await store.update(verifying, 1)).toBe(true);
      expect(await store.get(session.id)).toEqual(verifying);
      expect(await store.update({ ...session, rev: 2, state: "failed" }, 1)).toBe(false);
      expect(await store.get(session.id)).toEqual(verifying);
    });

    it(`of ${CAS_RACE} concurrent updates from the same rev exactly one succeeds, and its session is the one stored`, async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      const attempts = Array.from({ length: CAS_RACE }, (_, n) => ({
        ...session,
        rev: 2,
        state: "verifying" as const,
        lease: { holder: `complete-${n}`, until_ms: n },
      }));
      const results = await Promise.all(attempts.map((next) => store.update(next, 1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.get(session.id)).toEqual(attempts[results.indexOf(true)]);
    });

    it("refuses an update whose rev does not follow the expected one, writing nothing", async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      await expect(store.update({ ...session, rev: 3 }, 1)).rejects.toThrow(/rev 3 does not follow 1/);
      expect(await store.get(session.id)).toEqual(session);
    });

    it("update of a deleted session is false", async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      await store.delete(session.id);
      expect(await store.update({ ...session, rev: 2 }, 1)).toBe(false);
      expect(await store.get(session.id)).toBeNull();
    });

    it("keeps a session whose progress holds the tree builder's largest state (about 150 KB)", async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      const progress = { offset: 5 * 1024 ** 4, hash: "h".repeat(200), tree: { levels: ["t".repeat(PROGRESS_BYTES)] } };
      const next = { ...session, rev: 2, state: "verifying" as const, progress };
      expect(await store.update(next, 1)).toBe(true);
      expect(await store.get(session.id)).toEqual(next);
    });

    it("lists parts in part-number order (2 before 10), and a part sent again replaces the first", async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      for (const part of [10, 2, 1]) expect(await store.putPart(session.id, partOf(part))).toBe(true);
      const resent = partOf(2, "ff".repeat(32));
      expect(await store.putPart(session.id, resent)).toBe(true);
      expect(await store.listParts(session.id)).toEqual([partOf(1), resent, partOf(10)]);
    });

    describe("claimPart: one digest per part, atomically (encrypted sessions, docs/ENCRYPTION.md)", () => {
      const claimOf = (part: number, sha256?: string): SessionPart => ({ ...partOf(part, sha256), etag: "" });

      it("claims a part with no record, and a claim with the ETag then records it", async () => {
        const store = await make();
        const session = newSession();
        await store.create(session);
        expect(await store.claimPart(session.id, claimOf(2))).toBe("claimed");
        expect(await store.listParts(session.id)).toEqual([claimOf(2)]);
        expect(await store.claimPart(session.id, partOf(2))).toBe("same");
        expect(await store.listParts(session.id)).toEqual([partOf(2)]);
      });

      it("answers same to the same digest, and a claim with no ETag keeps the recorded one", async () => {
        const store = await make();
        const session = newSession();
        await store.create(session);
        expect(await store.claimPart(session.id, partOf(1))).toBe("claimed");
        expect(await store.claimPart(session.id, claimOf(1))).toBe("same");
        expect(await store.listParts(session.id)).toEqual([partOf(1)]);
        const retried = { ...partOf(1), etag: '"etag-of-the-retry"' };
        expect(await store.claimPart(session.id, retried)).toBe("same");
        expect(await store.listParts(session.id)).toEqual([retried]);
      });

      it("answers conflict to another digest, with or without an ETag, and writes nothing", async () => {
        const store = await make();
        const session = newSession();
        await store.create(session);
        expect(await store.claimPart(session.id, claimOf(1))).toBe("claimed");
        expect(await store.claimPart(session.id, claimOf(1, "ee".repeat(32)))).toBe("conflict");
        expect(await store.claimPart(session.id, partOf(1, "ee".repeat(32)))).toBe("conflict");
        expect(await store.listParts(session.id)).toEqual([claimOf(1)]);
      });

      it("judges a part recorded by putPart by its digest", async () => {
        const store = await make();
        const session = newSession();
        await store.create(session);
        await store.putPart(session.id, partOf(3));
        expect(await store.claimPart(session.id, claimOf(3))).toBe("same");
        expect(await store.claimPart(session.id, claimOf(3, "ee".repeat(32)))).toBe("conflict");
        expect(await store.listParts(session.id)).toEqual([partOf(3)]);
      });

      it("answers missing for a session never created or deleted, and records nothing", async () => {
        const store = await make();
        const [unknown, deleted] = [newSession(), newSession()];
        expect(await store.claimPart(unknown.id, claimOf(1))).toBe("missing");
        await store.create(deleted);
        await store.delete(deleted.id);
        expect(await store.claimPart(deleted.id, claimOf(1))).toBe("missing");
        expect(await store.claimPart(deleted.id, partOf(1))).toBe("missing");
        for (const id of [unknown.id, deleted.id]) expect(await store.listParts(id)).toEqual([]);
      });

      it(`of ${CAS_RACE} concurrent claims of one part with different digests exactly one is claimed, and its digest is recorded`, async () => {
        const store = await make();
        const session = newSession();
        await store.create(session);
        const attempts = Array.from({ length: CAS_RACE }, (_, n) => claimOf(1, n.toString(16).repeat(64)));
        const claims = await Promise.all(attempts.map((attempt) => store.claimPart(session.id, attempt)));
        expect(claims.filter((claim) => claim === "claimed")).toHaveLength(1);
        expect(claims.filter((claim) => claim === "conflict")).toHaveLength(CAS_RACE - 1);
        expect(await store.listParts(session.id)).toEqual([attempts[claims.indexOf("claimed")]]);
      });

      it(`of ${CAS_RACE} concurrent claims of one part with the same digest one is claimed and the others same (a retry goes on)`, async () => {
        const store = await make();
        const session = newSession();
        await store.create(session);
        const claims = await Promise.all(Array.from({ length: CAS_RACE }, () => store.claimPart(session.id, claimOf(1))));
        expect(claims.toSorted()).toEqual(["claimed", ...Array<string>(CAS_RACE - 1).fill("same")]);
        expect(await store.listParts(session.id)).toEqual([claimOf(1)]);
      });
    });

    it("keeps parts apart per session", async () => {
      const store = await make();
      const [a, b] = [newSession(), newSession()];
      await Promise.all([store.create(a), store.create(b)]);
      await store.putPart(a.id, partOf(1));
      await store.putPart(b.id, partOf(2));
      expect(await store.listParts(a.id)).toEqual([partOf(1)]);
      expect(await store.listParts(b.id)).toEqual([partOf(2)]);
    });

    const filled = capabilities.fillParts ? ` (all but ${THROUGH_PUT_PART} recorded ${capabilities.fillParts.how})` : "";
    it(`lists all ${MAX_PARTS.toLocaleString("en")} parts of a session in order${filled}`, { timeout: 120_000 }, async () => {
      const store = await make();
      const session = newSession({ part_count: MAX_PARTS });
      await store.create(session);
      const bulk = MAX_PARTS - THROUGH_PUT_PART;
      if (capabilities.fillParts) {
        await capabilities.fillParts.fill(
          session.id,
          Array.from({ length: bulk }, (_, n) => partOf(n + 1)),
        );
      } else {
        await forEachPart(bulk, PUT_PART_CONCURRENCY, async (part) => expect(await store.putPart(session.id, partOf(part))).toBe(true));
      }
      const replaced = partOf(bulk, "ee".repeat(32));
      for (const part of [partOf(MAX_PARTS), replaced, ...Array.from({ length: THROUGH_PUT_PART - 1 }, (_, n) => partOf(bulk + n + 1))]) {
        expect(await store.putPart(session.id, part)).toBe(true);
      }
      const listed = await store.listParts(session.id);
      expect(listed.map((part) => part.part)).toEqual(Array.from({ length: MAX_PARTS }, (_, n) => n + 1));
      expect(listed[0]).toEqual(partOf(1));
      expect(listed[bulk - 1]).toEqual(replaced);
      expect(listed[MAX_PARTS - 1]).toEqual(partOf(MAX_PARTS));
    });

    it("delete removes the session and every part; the id can then be created afresh", async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      for (const part of [1, 2, 3]) await store.putPart(session.id, partOf(part));
      await store.delete(session.id);
      expect(await store.get(session.id)).toBeNull();
      expect(await store.listParts(session.id)).toEqual([]);
      expect(await store.create(session)).toBe(true);
      expect(await store.listParts(session.id)).toEqual([]);
    });

    it("a deleted session takes no part: putPart is false and lists nothing", async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      await store.putPart(session.id, partOf(1));
      await store.delete(session.id);
      expect(await store.putPart(session.id, partOf(2))).toBe(false);
      expect(await store.listParts(session.id)).toEqual([]);
      expect(await store.get(session.id)).toBeNull();
    });

    it("parts sent while the session is deleted are never left listed", async () => {
      const store = await make();
      const session = newSession();
      await store.create(session);
      const puts = Array.from({ length: 20 }, (_, n) => store.putPart(session.id, partOf(n + 1)));
      await Promise.all([...puts, store.delete(session.id)]);
      expect(await store.listParts(session.id)).toEqual([]);
      expect(await store.get(session.id)).toBeNull();
    });
  });
}
