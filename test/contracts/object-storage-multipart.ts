import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import type { ObjectStorage, StoredPart } from "../../shared/storage/index.ts";
import { concatBytes } from "../support/bytes.ts";
import { blobKey, patternBytes, readAll, readBlob, streamOf } from "./object-storage-bytes.ts";

/**
 * A rule of the multipart API that the store checks, or why this one lets it pass: the case then pins what the
 * store does instead, so a store that starts checking fails it and its flag must flip. `runnable: false` is for a
 * store that cannot be shown the case at all; it is skipped under a name that says why.
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

/** An upload of `key` with `parts` sent in the order given (numbered from 1 by position in the list). */
async function uploadParts(storage: ObjectStorage, key: string, parts: Uint8Array<ArrayBuffer>[]): Promise<{ uploadId: string; stored: StoredPart[] }> {
  const uploadId = await storage.multipart.create(key, { contentType: "application/octet-stream" });
  const stored: StoredPart[] = [];
  for (const [index, bytes] of parts.entries()) stored.push(await sendPart(storage, key, uploadId, index + 1, bytes));
  return { uploadId, stored };
}

/**
 * Runs `check` when the store enforces `rule`, the pinned lax behaviour `lax` when it does not, or skips by name.
 * A rule without a `lax` case can only be enforced or not runnable.
 */
function ruleCase(name: string, rule: MultipartRule, check: () => Promise<void>, lax?: () => Promise<void>): void {
  if (rule.enforced) it(name, check);
  else if (rule.runnable === false) it.skip(`${name}: not run, ${rule.reason}`, check);
  else if (lax) it(`${name}: not enforced, ${rule.reason}`, lax);
  else throw new Error(`"${name}" has no case for a store that lets it pass (${rule.reason}): declare the rule not runnable, or add one`);
}

/** The multipart behaviour every `ObjectStorage` backend must show (upload sessions build on it). */
export function describeMultipartContract(make: () => ObjectStorage | Promise<ObjectStorage>, capabilities: MultipartCapabilities): void {
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
      expect(toHex(await sha256(await readAll(blob!.body)))).toBe(toHex(await sha256(concatBytes([first, last]))));
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

    ruleCase(
      "complete with the ETag of a part since sent again is refused and assembles nothing",
      capabilities.partEtags,
      async () => {
        const storage = await make();
        const key = blobKey();
        const { uploadId, stored } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 3)]);
        const replacement = patternBytes(SMALL_PART_BYTES + 1, 4);
        const current = await sendPart(storage, key, uploadId, 1, replacement);
        await expect(storage.multipart.complete(key, uploadId, stored)).rejects.toThrow();
        expect(await storage.get(key)).toBeNull();
        await storage.multipart.complete(key, uploadId, [current]);
        expect(await readBlob(storage, key)).toEqual(replacement);
      },
      async () => {
        const storage = await make();
        const key = blobKey();
        const { uploadId, stored } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 3)]);
        const replacement = patternBytes(SMALL_PART_BYTES + 1, 4);
        await sendPart(storage, key, uploadId, 1, replacement);
        await storage.multipart.complete(key, uploadId, stored);
        expect(await readBlob(storage, key)).toEqual(replacement);
      },
    );

    ruleCase("complete naming a part that was never uploaded is refused and assembles nothing", capabilities.missingParts, async () => {
      const storage = await make();
      const key = blobKey();
      const uploadId = await storage.multipart.create(key, {});
      const second = await sendPart(storage, key, uploadId, 2, patternBytes(SMALL_PART_BYTES, 5));
      const never: StoredPart = { partNumber: 1, etag: second.etag, sha256: second.sha256 };
      await expect(storage.multipart.complete(key, uploadId, [never, second])).rejects.toThrow();
      expect(await storage.get(key)).toBeNull();
    });

    ruleCase(
      "complete with a part but the last under 5 MiB is refused and assembles nothing",
      capabilities.minPartSize,
      async () => {
        const storage = await make();
        const key = blobKey();
        const { uploadId, stored } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 6), patternBytes(SMALL_PART_BYTES, 7)]);
        await expect(storage.multipart.complete(key, uploadId, stored)).rejects.toThrow();
        expect(await storage.get(key)).toBeNull();
      },
      async () => {
        const storage = await make();
        const key = blobKey();
        const parts = [patternBytes(SMALL_PART_BYTES, 6), patternBytes(SMALL_PART_BYTES, 7)];
        const { uploadId, stored } = await uploadParts(storage, key, parts);
        await storage.multipart.complete(key, uploadId, stored);
        expect(await readBlob(storage, key)).toEqual(concatBytes(parts));
      },
    );

    ruleCase(
      "complete with a last part larger than the others is refused and assembles nothing",
      capabilities.equalPartSizes,
      async () => {
        const storage = await make();
        const key = blobKey();
        const { uploadId, stored } = await uploadParts(storage, key, [patternBytes(PART_BYTES, 8), patternBytes(PART_BYTES + 1, 9)]);
        await expect(storage.multipart.complete(key, uploadId, stored)).rejects.toThrow();
        expect(await storage.get(key)).toBeNull();
      },
      async () => {
        const storage = await make();
        const key = blobKey();
        const parts = [patternBytes(PART_BYTES, 8), patternBytes(PART_BYTES + 1, 9)];
        const { uploadId, stored } = await uploadParts(storage, key, parts);
        await storage.multipart.complete(key, uploadId, stored);
        const blob = await storage.get(key);
        expect(blob?.size).toBe(2 * PART_BYTES + 1);
        expect(toHex(await sha256(await readAll(blob!.body)))).toBe(toHex(await sha256(concatBytes(parts))));
      },
    );

    ruleCase(
      "a part whose sha256 differs from its bytes is rejected with digest_mismatch",
      capabilities.partSha256,
      async () => {
        const storage = await make();
        const key = blobKey();
        const uploadId = await storage.multipart.create(key, {});
        const bytes = patternBytes(SMALL_PART_BYTES, 10);
        const other = await sha256(patternBytes(SMALL_PART_BYTES, 11));
        await expect(storage.multipart.uploadPart(key, uploadId, 1, streamOf(bytes), { length: bytes.length, sha256: other })).rejects.toMatchObject({
          name: "VerigateError",
          code: "digest_mismatch",
        });
      },
      async () => {
        const storage = await make();
        const key = blobKey();
        const uploadId = await storage.multipart.create(key, {});
        const bytes = patternBytes(SMALL_PART_BYTES, 10);
        const other = await sha256(patternBytes(SMALL_PART_BYTES, 11));
        const stored = await storage.multipart.uploadPart(key, uploadId, 1, streamOf(bytes), { length: bytes.length, sha256: other });
        await storage.multipart.complete(key, uploadId, [stored]);
        expect(await readBlob(storage, key)).toEqual(bytes);
      },
    );

    it("a part body shorter than its declared length is refused", async () => {
      const storage = await make();
      const key = blobKey();
      const uploadId = await storage.multipart.create(key, {});
      const bytes = patternBytes(SMALL_PART_BYTES, 12);
      const declared = SMALL_PART_BYTES + 10;
      await expect(storage.multipart.uploadPart(key, uploadId, 1, streamOf(bytes), { length: declared, sha256: await sha256(bytes) })).rejects.toThrow();
    });

    ruleCase(
      "abort drops the upload: complete and later parts fail, nothing is visible, aborting again succeeds",
      capabilities.abort,
      async () => {
        const storage = await make();
        const key = blobKey();
        const { uploadId, stored } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 13)]);
        await storage.multipart.abort(key, uploadId);
        await expect(storage.multipart.complete(key, uploadId, stored)).rejects.toThrow();
        await expect(sendPart(storage, key, uploadId, 2, patternBytes(SMALL_PART_BYTES, 14))).rejects.toThrow();
        expect(await storage.get(key)).toBeNull();
        await expect(storage.multipart.abort(key, uploadId)).resolves.toBeUndefined();
      },
      async () => {
        const storage = await make();
        const key = blobKey();
        const { uploadId } = await uploadParts(storage, key, [patternBytes(SMALL_PART_BYTES, 13)]);
        await expect(storage.multipart.abort(key, uploadId)).rejects.toThrow();
      },
    );

    if (capabilities.abort.enforced) {
      it("abort after complete succeeds and leaves the blob", async () => {
        const storage = await make();
        const key = blobKey();
        const bytes = patternBytes(SMALL_PART_BYTES, 15);
        const { uploadId, stored } = await uploadParts(storage, key, [bytes]);
        await storage.multipart.complete(key, uploadId, stored);
        await storage.multipart.abort(key, uploadId);
        expect(await readBlob(storage, key)).toEqual(bytes);
      });
    }
  });
}
