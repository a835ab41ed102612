import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import type { ObjectStorage, StoredPart } from "../../shared/storage/index.ts";
import { concatBytes } from "../support/bytes.ts";
import { blobKey, patternBytes, readAll, readBlob, streamOf } from "./object-storage-bytes.ts";

/**
 * A rule of the multipart API that the store checks, or why this one lets it pass: the case then pins what the
 * store does instead, so a store that starts checking fails it and its flag must flip. `runnable: false` (for the
 * rules checked at complete) is for a store that cannot be shown the case at all: it is skipped under a name saying why.
 */
export type MultipartRule = { enforced: true } | { enforced: false; reason: string; runnable?: false };

/** What a backend's multipart API checks (docs/STORAGE.md, "Multipart"). */
export interface MultipartCapabilities {
  /** Complete refuses a part but the last under 5 MiB. */
  minPartSize: MultipartRule;
  /** Complete refuses parts but the last of unequal sizes, or a last part larger than them (R2's rule). */
  equalPartSizes: MultipartRule;
  /** Complete refuses an ETag the store no longer holds for the part (one replaced by sending the part again). */
  partEtags: MultipartRule;
  /** Complete refuses a part number that was never uploaded. */
  missingParts: MultipartRule;
  /** uploadPart rejects a part whose bytes differ from `sha256` with `digest_mismatch`. */
  partSha256: MultipartRule;
  /** Abort drops the upload: complete and further parts fail, and aborting again or after complete succeeds. */
  abort: MultipartRule;
}

const MIB = 1024 * 1024;
/** The smallest part but the last that R2 and S3 accept, so the cases move as few bytes as the rules allow. */
const PART_BYTES = 5 * MIB;
/** A last part of no round size. */
const LAST_PART_BYTES = 70_001;
const SMALL_PART_BYTES = 1000;

async function sendPart(storage: ObjectStorage, key: string, uploadId: string, partNumber: number, bytes: Uint8Array<ArrayBuffer>): Promise<StoredPart> {
  return storage.multipart.uploadPart(key, uploadId, partNumber, streamOf(bytes), { length: bytes.length, sha256: await sha256(bytes) });
}

/** An upload of `key` whose parts 1, 2, ... are `parts`, sent in that order. */
async function uploadParts(storage: ObjectStorage, key: string, parts: Uint8Array<ArrayBuffer>[]): Promise<{ uploadId: string; stored: StoredPart[] }> {
  const uploadId = await storage.multipart.create(key, { contentType: "application/octet-stream" });
  const stored: StoredPart[] = [];
  for (const [index, bytes] of parts.entries()) stored.push(await sendPart(storage, key, uploadId, index + 1, bytes));
  return { uploadId, stored };
}

/** An upload that a store enforcing a rule refuses to complete; `assembled` is what a store letting it pass makes of it. */
interface RefusedUpload {
  key: string;
  uploadId: string;
  parts: StoredPart[];
  assembled?: Uint8Array<ArrayBuffer>;
}

async function sameBytes(actual: Uint8Array<ArrayBuffer> | null, expected: Uint8Array<ArrayBuffer>): Promise<void> {
  expect(actual?.length).toBe(expected.length);
  expect(toHex(await sha256(actual!))).toBe(toHex(await sha256(expected)));
}

/** The multipart behaviour every `ObjectStorage` backend must show (upload sessions build on it). */
export function describeMultipartContract(make: () => ObjectStorage | Promise<ObjectStorage>, capabilities: MultipartCapabilities): void {
  /**
   * Where the store enforces `rule`, completing the upload `arrange` makes fails and leaves nothing visible; where it
   * does not, the case pins that the store assembles `assembled`, or is skipped by name when it cannot be run.
   */
  function refusedAtComplete(name: string, rule: MultipartRule, arrange: (storage: ObjectStorage) => Promise<RefusedUpload>): void {
    if (rule.enforced) {
      it(name, async () => {
        const storage = await make();
        const { key, uploadId, parts } = await arrange(storage);
        await expect(storage.multipart.complete(key, uploadId, parts)).rejects.toThrow();
        expect(await storage.get(key)).toBeNull();
      });
    } else if (rule.runnable === false) {
      it.skip(`${name}: not run, ${rule.reason}`);
    } else {
      it(`${name}: not enforced, ${rule.reason}`, async () => {
        const storage = await make();
        const { key, uploadId, parts, assembled } = await arrange(storage);
        if (!assembled) throw new Error(`"${name}" says nothing of what a store that lets it pass assembles: declare the rule not runnable`);
        await storage.multipart.complete(key, uploadId, parts);
        await sameBytes(await readBlob(storage, key), assembled);
      });
    }
  }

  describe("multipart", () => {
    it("a 2-part upload sent last part first is invisible until complete, then reads back byte-identical", async () => {
      const storage = await make();
      const key = blobKey();
      const first = patternBytes(PART_BYTES, 1);
      const last = patternBytes(LAST_PART_BYTES, 2);
      const uploadId = await storage.multipart.create(key, { contentType: "application/octet-stream" });
      const storedLast = await sendPart(storage, key, uploadId, 2, last);
      const storedFirst = await sendPart(storage, key, uploadId, 1, first);
      expect(storedFirst).toMatchObject({ partNumber: 1, sha256: toHex(await sha256(first)) });
      expect(storedLast).toMatchObject({ partNumber: 2, sha256: toHex(await sha256(last)) });
      expect(await storage.get(key)).toBeNull();
      await storage.multipart.complete(key, uploadId, [storedLast, storedFirst]);
      const blob = await storage.get(key);
      expect(blob?.size).toBe(PART_BYTES + LAST_PART_BYTES);
      await sameBytes(await readAll(blob!.body), concatBytes([first, last]));
    });

    it("a part sent twice: complete assembles the one sent last", async () => {
      const storage = await make();
      const key = blobKey();
      const { uploadId } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 3)]);
      const replacement = patternBytes(SMALL_PART_BYTES + 1, 4);
      const stored = await sendPart(storage, key, uploadId, 1, replacement);
      await storage.multipart.complete(key, uploadId, [stored]);
      expect(await readBlob(storage, key)).toEqual(replacement);
    });

    refusedAtComplete("complete with the ETag of a part since sent again is refused and assembles nothing", capabilities.partEtags, async (storage) => {
      const key = blobKey();
      const { uploadId, stored } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 3)]);
      const replacement = patternBytes(SMALL_PART_BYTES + 1, 4);
      await sendPart(storage, key, uploadId, 1, replacement);
      return { key, uploadId, parts: stored, assembled: replacement };
    });

    refusedAtComplete("complete naming a part that was never uploaded is refused and assembles nothing", capabilities.missingParts, async (storage) => {
      const key = blobKey();
      const uploadId = await storage.multipart.create(key, {});
      const second = await sendPart(storage, key, uploadId, 2, patternBytes(SMALL_PART_BYTES, 5));
      return { key, uploadId, parts: [{ partNumber: 1, etag: second.etag, sha256: second.sha256 }, second] };
    });

    refusedAtComplete("complete with a part but the last under 5 MiB is refused and assembles nothing", capabilities.minPartSize, async (storage) => {
      const key = blobKey();
      const bytes = [patternBytes(SMALL_PART_BYTES, 6), patternBytes(SMALL_PART_BYTES, 7)];
      const { uploadId, stored } = await uploadParts(storage, key, bytes);
      return { key, uploadId, parts: stored, assembled: concatBytes(bytes) };
    });

    refusedAtComplete("complete with a last part larger than the others is refused and assembles nothing", capabilities.equalPartSizes, async (storage) => {
      const key = blobKey();
      const bytes = [patternBytes(PART_BYTES, 8), patternBytes(PART_BYTES + 1, 9)];
      const { uploadId, stored } = await uploadParts(storage, key, bytes);
      return { key, uploadId, parts: stored, assembled: concatBytes(bytes) };
    });

    const wrongDigest = "a part whose sha256 differs from its bytes is rejected with digest_mismatch";
    async function sendWithWrongDigest(storage: ObjectStorage, key: string, uploadId: string, bytes: Uint8Array<ArrayBuffer>): Promise<StoredPart> {
      const other = await sha256(patternBytes(bytes.length, 11));
      return storage.multipart.uploadPart(key, uploadId, 1, streamOf(bytes), { length: bytes.length, sha256: other });
    }
    if (capabilities.partSha256.enforced) {
      it(wrongDigest, async () => {
        const storage = await make();
        const key = blobKey();
        const uploadId = await storage.multipart.create(key, {});
        await expect(sendWithWrongDigest(storage, key, uploadId, patternBytes(SMALL_PART_BYTES, 10))).rejects.toMatchObject({
          name: "VerigateError",
          code: "digest_mismatch",
        });
      });
    } else {
      it(`${wrongDigest}: not enforced, ${capabilities.partSha256.reason}`, async () => {
        const storage = await make();
        const key = blobKey();
        const uploadId = await storage.multipart.create(key, {});
        const bytes = patternBytes(SMALL_PART_BYTES, 10);
        await storage.multipart.complete(key, uploadId, [await sendWithWrongDigest(storage, key, uploadId, bytes)]);
        expect(await readBlob(storage, key)).toEqual(bytes);
      });
    }

    it("a part body shorter than its declared length is refused", async () => {
      const storage = await make();
      const key = blobKey();
      const uploadId = await storage.multipart.create(key, {});
      const bytes = patternBytes(SMALL_PART_BYTES, 12);
      const declared = SMALL_PART_BYTES + 10;
      await expect(storage.multipart.uploadPart(key, uploadId, 1, streamOf(bytes), { length: declared, sha256: await sha256(bytes) })).rejects.toThrow();
    });

    if (capabilities.abort.enforced) {
      it("abort drops the upload: complete and later parts fail, nothing is visible, aborting again succeeds", async () => {
        const storage = await make();
        const key = blobKey();
        const { uploadId, stored } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 13)]);
        await storage.multipart.abort(key, uploadId);
        await expect(storage.multipart.complete(key, uploadId, stored)).rejects.toThrow();
        await expect(sendPart(storage, key, uploadId, 2, patternBytes(SMALL_PART_BYTES, 14))).rejects.toThrow();
        expect(await storage.get(key)).toBeNull();
        await expect(storage.multipart.abort(key, uploadId)).resolves.toBeUndefined();
      });

      it("abort after complete succeeds and leaves the blob", async () => {
        const storage = await make();
        const key = blobKey();
        const bytes = patternBytes(SMALL_PART_BYTES, 15);
        const { uploadId, stored } = await uploadParts(storage, key, [bytes]);
        await storage.multipart.complete(key, uploadId, stored);
        await storage.multipart.abort(key, uploadId);
        expect(await readBlob(storage, key)).toEqual(bytes);
      });
    } else {
      it(`abort is refused: ${capabilities.abort.reason}`, async () => {
        const storage = await make();
        const key = blobKey();
        const { uploadId } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 13)]);
        await expect(storage.multipart.abort(key, uploadId)).rejects.toThrow();
      });
    }
  });
}
