import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import type { ObjectStorage, StorageBackendName } from "../../shared/storage/index.ts";
import { blobKey, PIECE_BYTES, patternBytes, readAll, streamOf } from "./object-storage-bytes.ts";
import { describeMultipartContract, type MultipartCapabilities } from "./object-storage-multipart.ts";

/** What a backend declares about itself; a backend that does not check `sha256` says why. */
export type ObjectStorageCapabilities = { backend: StorageBackendName; multipart: MultipartCapabilities } & (
  { verifiesSha256: true } | { verifiesSha256: false; reason: string }
);

/** Past the 1 MiB and 2 MiB marks where stores and streams tend to split bodies, and not a round size. */
const LARGE_BLOB_BYTES = 3 * 1024 * 1024 + 17;
const RANGED_BLOB_BYTES = 1000;

async function putBytes(storage: ObjectStorage, key: string, bytes: Uint8Array): Promise<void> {
  await storage.put(key, streamOf(bytes), { length: bytes.length, contentType: "application/octet-stream" });
}

/** The behaviour every `ObjectStorage` backend must show; each backend's test file calls this once. */
export function describeObjectStorageContract(name: string, make: () => ObjectStorage | Promise<ObjectStorage>, capabilities: ObjectStorageCapabilities): void {
  describe(`ObjectStorage contract: ${name}`, () => {
    it(`reports backend "${capabilities.backend}"`, async () => {
      expect((await make()).backend).toBe(capabilities.backend);
    });

    it("put then get round-trips the bytes and reports their size", async () => {
      const storage = await make();
      const key = blobKey();
      const bytes = patternBytes(RANGED_BLOB_BYTES, 7);
      await putBytes(storage, key, bytes);
      const blob = await storage.get(key);
      expect(blob?.size).toBe(bytes.length);
      expect(await readAll(blob!.body)).toEqual(bytes);
    });

    it("a 0-byte blob round-trips", async () => {
      const storage = await make();
      const key = blobKey();
      await putBytes(storage, key, new Uint8Array(0));
      const blob = await storage.get(key);
      expect(blob?.size).toBe(0);
      expect((await readAll(blob!.body)).length).toBe(0);
    });

    it(`a ${LARGE_BLOB_BYTES}-byte body written in ${PIECE_BYTES}-byte pieces round-trips`, async () => {
      const storage = await make();
      const key = blobKey();
      const bytes = patternBytes(LARGE_BLOB_BYTES, 3);
      await putBytes(storage, key, bytes);
      const blob = await storage.get(key);
      expect(blob?.size).toBe(LARGE_BLOB_BYTES);
      const read = await readAll(blob!.body);
      expect(read.length).toBe(LARGE_BLOB_BYTES);
      expect(toHex(await sha256(read))).toBe(toHex(await sha256(bytes)));
    });

    it("keys with slashes, spaces and non-ASCII characters round-trip", async () => {
      const storage = await make();
      const key = blobKey("dir/sub dir/ünïcødé 文件+%20.bin");
      const bytes = patternBytes(64, 11);
      await putBytes(storage, key, bytes);
      expect(await readAll((await storage.get(key))!.body)).toEqual(bytes);
      expect(await storage.get(blobKey("dir/sub dir/ünïcødé 文件+%20.bin"))).toBeNull();
    });

    it("get of a missing blob is null, with or without a range", async () => {
      const storage = await make();
      expect(await storage.get(blobKey())).toBeNull();
      expect(await storage.get(blobKey(), { offset: 10, length: 5 })).toBeNull();
    });

    describe("ranged get returns the bytes of the range and the whole blob's size", () => {
      const cases = [
        { name: "at the start", offset: 0, length: 10 },
        { name: "in the middle", offset: 300, length: 257 },
        { name: "ending at the last byte", offset: RANGED_BLOB_BYTES - 10, length: 10 },
        { name: "running past the end: the bytes that exist", offset: RANGED_BLOB_BYTES - 5, length: 100 },
        { name: "starting at the end: no bytes", offset: RANGED_BLOB_BYTES, length: 10 },
        { name: "starting past the end: no bytes", offset: RANGED_BLOB_BYTES + 500, length: 10 },
      ];
      for (const range of cases) {
        it(`${range.name} (offset ${range.offset}, length ${range.length})`, async () => {
          const storage = await make();
          const key = blobKey();
          const bytes = patternBytes(RANGED_BLOB_BYTES, 5);
          await putBytes(storage, key, bytes);
          const blob = await storage.get(key, { offset: range.offset, length: range.length });
          expect(blob?.size).toBe(RANGED_BLOB_BYTES);
          expect(await readAll(blob!.body)).toEqual(bytes.slice(range.offset, range.offset + range.length));
        });
      }
    });

    it("a put replaces the previous blob, size included", async () => {
      const storage = await make();
      const key = blobKey();
      await putBytes(storage, key, patternBytes(RANGED_BLOB_BYTES, 1));
      const replacement = patternBytes(100, 2);
      await putBytes(storage, key, replacement);
      const blob = await storage.get(key);
      expect(blob?.size).toBe(100);
      expect(await readAll(blob!.body)).toEqual(replacement);
    });

    it("delete removes the blob, and deleting a missing blob succeeds", async () => {
      const storage = await make();
      const key = blobKey();
      await putBytes(storage, key, patternBytes(10));
      await storage.delete(key);
      expect(await storage.get(key)).toBeNull();
      await expect(storage.delete(key)).resolves.toBeUndefined();
      await expect(storage.delete(blobKey())).resolves.toBeUndefined();
    });

    it("a put with the body's sha256 stores the body", async () => {
      const storage = await make();
      const key = blobKey();
      const bytes = patternBytes(RANGED_BLOB_BYTES, 9);
      await storage.put(key, streamOf(bytes, 100), { length: bytes.length, sha256: await sha256(bytes) });
      expect(await readAll((await storage.get(key))!.body)).toEqual(bytes);
    });

    const mismatch = "a put whose sha256 differs from the body rejects with digest_mismatch";
    if (capabilities.verifiesSha256) {
      it(mismatch, async () => {
        const storage = await make();
        const bytes = patternBytes(RANGED_BLOB_BYTES, 9);
        const other = await sha256(patternBytes(RANGED_BLOB_BYTES, 10));
        await expect(storage.put(blobKey(), streamOf(bytes, 100), { length: bytes.length, sha256: other })).rejects.toMatchObject({
          name: "VerigateError",
          code: "digest_mismatch",
        });
      });
    } else {
      // Pins the declared capability: should the backend start checking, this fails and the flag must flip.
      it(`a put whose sha256 differs from the body stores it as sent: ${capabilities.backend} does not verify sha256 (${capabilities.reason})`, async () => {
        const storage = await make();
        const key = blobKey();
        const bytes = patternBytes(RANGED_BLOB_BYTES, 9);
        const other = await sha256(patternBytes(RANGED_BLOB_BYTES, 10));
        await storage.put(key, streamOf(bytes, 100), { length: bytes.length, sha256: other });
        expect(await readAll((await storage.get(key))!.body)).toEqual(bytes);
      });
    }

    describeMultipartContract(make, capabilities.multipart);
  });
}
