import { describe, expect, it } from "vitest";
import { lengthPrefixed, textField, u64Field } from "../../shared/crypto/canonical.ts";
import { objectCipher, type ObjectCipher } from "../../shared/crypto/chunk-aead.ts";
import {
  CHUNK_TAG_BYTES,
  ciphertextSpan,
  encryptedBlobSize,
  encryptedChunkCount,
  isLastChunk,
  plaintextChunkLength,
} from "../../shared/crypto/chunk-layout.ts";
import { fromBase64, fromHex, toBase64, toBase64Url, toHex, utf8 } from "../../shared/crypto/encoding.ts";
import { newObjectKey, openObjectKey, rewrapDataKey, type ManifestEncryption } from "../../shared/crypto/envelope.ts";
import { EncryptionFailure, encryptionFailureCode, type EncryptionFailureReason } from "../../shared/crypto/failures.ts";
import { derivePurposeKey } from "../../shared/crypto/hkdf.ts";
import { KeyRing, KeyRingError, parseKeyRing } from "../../shared/crypto/key-ring.ts";
import { signManifest, verifyManifest, type SignaturePolicy, type StoredManifest } from "../../shared/objects/manifest-signature.ts";
import type { ByteRange } from "../../shared/storage/index.ts";
import { concatBytes } from "./bytes.ts";
import { sequence, VECTOR, vectorManifest } from "./encryption-vectors.ts";
import { RecordingLogger } from "./recording-logger.ts";

/**
 * The encryption-at-rest modules (docs/ENCRYPTION.md) on one runtime's WebCrypto: run by test/node/encryption.test.ts
 * and test/workerd/encryption.test.ts, so Node's and workerd's AES-GCM, HKDF and HMAC are both held to the pinned
 * vectors and to every tampering of issue 15 that the modules alone can refuse. The chunk size is 64 bytes so a
 * many-chunk object is a few hundred bytes; nothing in the construction depends on the size.
 */

const CHUNK = 64;
const A = { key: "team-a/model.bin", version: "01JV0000000000000000000001" };
const B = { key: "team-b/other.bin", version: "01JV0000000000000000000002" };

/** A recognisable plaintext: each chunk's text says which chunk it is, so a leak or a misplaced chunk shows. */
function plaintextOf(size: number): Uint8Array<ArrayBuffer> {
  const text = Array.from({ length: Math.ceil(size / 16) }, (_, index) => `plain-${String(index).padStart(9, "0")} `).join("");
  return utf8(text.slice(0, size));
}

/** The stored blob of `data`: each chunk sealed with its index and last flag, one after another (the upload's job). */
async function sealObject(cipher: ObjectCipher, data: Uint8Array<ArrayBuffer>, chunkSize = CHUNK): Promise<Uint8Array<ArrayBuffer>> {
  const count = encryptedChunkCount(data.length, chunkSize);
  const sealed = [];
  for (let index = 0; index < count; index++) {
    const chunk = data.slice(index * chunkSize, index * chunkSize + plaintextChunkLength(index, data.length, chunkSize));
    sealed.push(await cipher.encrypt(index, isLastChunk(index, data.length, chunkSize), chunk));
  }
  return concatBytes(sealed);
}

/** Plaintext `span` of an object of `size` bytes read from `blob` as a Range read would (the download's job). */
async function readSpan(cipher: ObjectCipher, blob: Uint8Array, size: number, span: ByteRange, chunkSize = CHUNK): Promise<Uint8Array<ArrayBuffer>> {
  const { firstChunk, endChunk, range } = ciphertextSpan(span, size, chunkSize);
  const fetched = blob.slice(range.offset, range.offset + range.length);
  const stride = chunkSize + CHUNK_TAG_BYTES;
  const out = [];
  for (let index = firstChunk; index < endChunk; index++) {
    const at = (index - firstChunk) * stride;
    const plain = await cipher.decrypt(index, isLastChunk(index, size, chunkSize), fetched.slice(at, at + stride));
    const start = index * chunkSize;
    out.push(plain.subarray(Math.max(span.offset, start) - start, Math.min(span.offset + span.length, start + plain.length) - start));
  }
  return concatBytes(out);
}

function chunkOf(blob: Uint8Array, index: number): Uint8Array<ArrayBuffer> {
  return blob.slice(index * (CHUNK + CHUNK_TAG_BYTES), (index + 1) * (CHUNK + CHUNK_TAG_BYTES));
}

function randomKeyText(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** A ring of fresh random keys under `ids`, the first current. */
function ringOf(...ids: string[]): { ring: KeyRing; text: string } {
  const text = ids.map((id) => `${id}=${randomKeyText()}`).join(",");
  return { ring: parseKeyRing(text), text };
}

async function refusal(promise: Promise<unknown>): Promise<EncryptionFailureReason> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "expected a refusal").toBeInstanceOf(EncryptionFailure);
  return (error as EncryptionFailure).reason;
}

async function vectorCipher(): Promise<ObjectCipher> {
  const dataKey = await crypto.subtle.importKey("raw", VECTOR.dataKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  return objectCipher(dataKey, VECTOR.noncePrefix, VECTOR.key, VECTOR.version);
}

function policy(ring: KeyRing | null, readUnsignedLegacy = false): SignaturePolicy & { log: RecordingLogger } {
  return { ring, readUnsignedLegacy, log: new RecordingLogger() };
}

/** A plain manifest of `binding` (the existing Manifest fields only). */
function plainManifest(binding: { key: string; version: string }): StoredManifest {
  return {
    key: binding.key,
    version: binding.version,
    size: 200,
    sha256: "ab".repeat(32),
    chunk_size: CHUNK,
    chunks: ["01".repeat(32), "02".repeat(32), "03".repeat(32), "04".repeat(32)],
    content_type: "application/octet-stream",
    created_at: "2026-12-01T00:00:00.000Z",
    keyid: "ops",
    blob: `blobs/${binding.version}`,
  };
}

export function describeEncryption(runtime: string): void {
  describe(`encryption at rest on ${runtime}'s WebCrypto`, () => {
    describe("known-answer vectors (test/support/encryption-vectors.ts)", () => {
      it("seal and open the pinned chunks, the empty object's bare tag included", async () => {
        const cipher = await vectorCipher();
        expect(toHex(await cipher.encrypt(0, false, utf8(VECTOR.chunk0.plaintext)))).toBe(VECTOR.chunk0.sealed);
        expect(toHex(await cipher.encrypt(1, true, utf8(VECTOR.chunk1Last.plaintext)))).toBe(VECTOR.chunk1Last.sealed);
        expect(toHex(await cipher.encrypt(0, true, new Uint8Array(0)))).toBe(VECTOR.emptyLast.sealed);
        expect(new TextDecoder().decode(await cipher.decrypt(0, false, fromHex(VECTOR.chunk0.sealed)))).toBe(VECTOR.chunk0.plaintext);
        expect((await cipher.decrypt(0, true, fromHex(VECTOR.emptyLast.sealed))).length).toBe(0);
      });

      it("open the pinned wrapped data key under the deployment key, and it opens the pinned chunk", async () => {
        const ring = parseKeyRing(`${VECTOR.kid}=${VECTOR.deploymentKeyBase64}`);
        const encryption = vectorManifest().encryption;
        const cipher = await openObjectKey(ring, encryption, { key: VECTOR.key, version: VECTOR.version });
        expect(new TextDecoder().decode(await cipher.decrypt(1, true, fromHex(VECTOR.chunk1Last.sealed)))).toBe(VECTOR.chunk1Last.plaintext);
      });

      it("give the pinned key check value and manifest MAC", async () => {
        const ring = parseKeyRing(`${VECTOR.kid}=${VECTOR.deploymentKeyBase64}`);
        expect(await ring.keyCheck(VECTOR.kid)).toBe(VECTOR.keyCheck);
        const signed = await signManifest(ring, vectorManifest());
        expect(signed.signature).toEqual({ kid: VECTOR.kid, key_check: VECTOR.keyCheck, mac: VECTOR.manifestMac });
      });

      it("derive the presign link key as before the HKDF table existed", async () => {
        const key = await derivePurposeKey(utf8(VECTOR.presignSecret), "presignLink", "HMAC", ["sign"]);
        expect(toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8("payload"))))).toBe(VECTOR.presignLinkMac);
      });

      it("encode canonically: length-prefixed fields, so moving a byte between fields changes the encoding", () => {
        expect(toHex(lengthPrefixed([textField("ab"), textField("")]))).toBe("00000002616200000000");
        expect(toHex(lengthPrefixed([textField("a"), textField("b")]))).not.toBe(toHex(lengthPrefixed([textField("ab"), textField("")])));
        expect(toHex(u64Field(2 ** 53 - 1))).toBe("001fffffffffffff");
        expect(() => textField("\ud800")).toThrow(TypeError);
        expect(() => u64Field(2 ** 53)).toThrow(RangeError);
      });
    });

    describe("chunk layout", () => {
      it("adds one tag per chunk, and gives an empty object one chunk", () => {
        expect(encryptedChunkCount(0, CHUNK)).toBe(1);
        expect(encryptedBlobSize(0, CHUNK)).toBe(16);
        expect(encryptedChunkCount(CHUNK, CHUNK)).toBe(1);
        expect(encryptedChunkCount(CHUNK + 1, CHUNK)).toBe(2);
        expect(encryptedBlobSize(200, CHUNK)).toBe(200 + 4 * 16);
        expect(isLastChunk(3, 200, CHUNK)).toBe(true);
        expect(isLastChunk(2, 200, CHUNK)).toBe(false);
      });

      it("maps a plaintext range to whole ciphertext chunks", () => {
        expect(ciphertextSpan({ offset: 0, length: 200 }, 200, CHUNK)).toEqual({ firstChunk: 0, endChunk: 4, range: { offset: 0, length: 264 } });
        expect(ciphertextSpan({ offset: 64, length: 64 }, 200, CHUNK)).toEqual({ firstChunk: 1, endChunk: 2, range: { offset: 80, length: 80 } });
        expect(ciphertextSpan({ offset: 63, length: 2 }, 200, CHUNK)).toEqual({ firstChunk: 0, endChunk: 2, range: { offset: 0, length: 160 } });
        expect(ciphertextSpan({ offset: 199, length: 1 }, 200, CHUNK)).toEqual({ firstChunk: 3, endChunk: 4, range: { offset: 240, length: 24 } });
        expect(ciphertextSpan({ offset: 0, length: 0 }, 0, CHUNK)).toEqual({ firstChunk: 0, endChunk: 1, range: { offset: 0, length: 16 } });
        expect(() => ciphertextSpan({ offset: 150, length: 51 }, 200, CHUNK)).toThrow(RangeError);
      });
    });

    describe("per-chunk AEAD", () => {
      it("round-trips an object and leaves no plaintext in the blob", async () => {
        const { ring } = ringOf("k1");
        const data = plaintextOf(200);
        const { cipher } = await newObjectKey(ring, A);
        const blob = await sealObject(cipher, data);
        expect(blob.length).toBe(encryptedBlobSize(200, CHUNK));
        const stored = new TextDecoder("latin1").decode(blob);
        expect(stored).not.toContain("plain-");
        expect(await readSpan(cipher, blob, 200, { offset: 0, length: 200 })).toEqual(data);
      });

      it("serves Range reads at chunk boundaries and inside chunks, decrypting only the chunks covered", async () => {
        const { ring } = ringOf("k1");
        const data = plaintextOf(200);
        const { cipher } = await newObjectKey(ring, A);
        const blob = await sealObject(cipher, data);
        const spans = [
          [0, 64],
          [64, 64],
          [128, 72],
          [63, 2],
          [0, 1],
          [199, 1],
          [10, 20],
          [70, 100],
          [64, 0],
          [0, 200],
        ] as const;
        for (const [offset, length] of spans) {
          expect(await readSpan(cipher, blob, 200, { offset, length }), `${offset}+${length}`).toEqual(data.slice(offset, offset + length));
        }
      });

      it("round-trips an empty object as one authenticated chunk", async () => {
        const { ring } = ringOf("k1");
        const { cipher } = await newObjectKey(ring, A);
        const blob = await sealObject(cipher, new Uint8Array(0));
        expect(blob.length).toBe(CHUNK_TAG_BYTES);
        expect((await readSpan(cipher, blob, 0, { offset: 0, length: 0 })).length).toBe(0);
        await expect(readSpan(cipher, new Uint8Array(0), 0, { offset: 0, length: 0 })).rejects.toBeInstanceOf(EncryptionFailure);
      });

      it("refuses two objects' blobs swapped in storage", async () => {
        const { ring } = ringOf("k1");
        const a = await newObjectKey(ring, A);
        const b = await newObjectKey(ring, B);
        const blobA = await sealObject(a.cipher, plaintextOf(200));
        const blobB = await sealObject(b.cipher, plaintextOf(200));
        expect(await refusal(readSpan(a.cipher, blobB, 200, { offset: 0, length: 200 }))).toBe("chunk_invalid");
        expect(await refusal(readSpan(b.cipher, blobA, 200, { offset: 70, length: 10 }))).toBe("chunk_invalid");
      });

      it("refuses a blob cut at a chunk boundary: the new last chunk lacks the flag", async () => {
        const { ring } = ringOf("k1");
        const { cipher } = await newObjectKey(ring, A);
        const blob = await sealObject(cipher, plaintextOf(200));
        // Three whole chunks presented as the whole object (192 bytes): chunk 2 is then the last, and was not sealed so.
        const cut = blob.slice(0, 3 * (CHUNK + CHUNK_TAG_BYTES));
        expect(await refusal(readSpan(cipher, cut, 192, { offset: 0, length: 192 }))).toBe("chunk_invalid");
        expect(await refusal(cipher.decrypt(2, true, chunkOf(blob, 2)))).toBe("chunk_invalid");
        // And the true last chunk read as if more followed.
        expect(await refusal(cipher.decrypt(3, false, blob.slice(3 * (CHUNK + CHUNK_TAG_BYTES))))).toBe("chunk_invalid");
      });

      it("refuses a truncated last chunk", async () => {
        const { ring } = ringOf("k1");
        const { cipher } = await newObjectKey(ring, A);
        const blob = await sealObject(cipher, plaintextOf(200));
        for (const drop of [1, CHUNK_TAG_BYTES, CHUNK_TAG_BYTES + 1]) {
          expect(await refusal(cipher.decrypt(3, true, blob.slice(3 * (CHUNK + CHUNK_TAG_BYTES), blob.length - drop))), `${drop} bytes short`).toBe(
            "chunk_invalid",
          );
        }
      });

      it("refuses reordered chunks", async () => {
        const { ring } = ringOf("k1");
        const { cipher } = await newObjectKey(ring, A);
        const blob = await sealObject(cipher, plaintextOf(256));
        const swapped = concatBytes([chunkOf(blob, 1), chunkOf(blob, 0), chunkOf(blob, 2), chunkOf(blob, 3)]);
        expect(await refusal(readSpan(cipher, swapped, 256, { offset: 0, length: 256 }))).toBe("chunk_invalid");
        expect(await refusal(cipher.decrypt(0, false, chunkOf(blob, 1)))).toBe("chunk_invalid");
        expect(await refusal(cipher.decrypt(2, false, chunkOf(blob, 1)))).toBe("chunk_invalid");
      });

      it("refuses a chunk from another version or object, even under the same data key and nonce prefix", async () => {
        const { ring } = ringOf("k1");
        const { cipher } = await newObjectKey(ring, A);
        const blob = await sealObject(cipher, plaintextOf(200));
        const dataKey = await crypto.subtle.importKey("raw", VECTOR.dataKey, "AES-GCM", false, ["encrypt", "decrypt"]);
        const sealedA = await objectCipher(dataKey, cipher.noncePrefix, A.key, A.version).encrypt(0, false, plaintextOf(64));
        // Only the associated data differs: the object key, or the version.
        expect(await refusal(objectCipher(dataKey, cipher.noncePrefix, A.key, B.version).decrypt(0, false, sealedA))).toBe("chunk_invalid");
        expect(await refusal(objectCipher(dataKey, cipher.noncePrefix, B.key, A.version).decrypt(0, false, sealedA))).toBe("chunk_invalid");
        // Another version of the same key has its own data key: its chunk at the same index fails too.
        const other = (await newObjectKey(ring, { key: A.key, version: B.version })).cipher;
        expect(await refusal(other.decrypt(0, false, chunkOf(blob, 0)))).toBe("chunk_invalid");
        // A nonce prefix altered in the manifest.
        const prefix = cipher.noncePrefix.slice();
        prefix[0]! ^= 1;
        expect(await refusal(objectCipher(dataKey, prefix, A.key, A.version).decrypt(0, false, sealedA))).toBe("chunk_invalid");
      });

      it("refuses a flipped bit anywhere in any chunk, tag included", async () => {
        const { ring } = ringOf("k1");
        const { cipher } = await newObjectKey(ring, A);
        const blob = await sealObject(cipher, plaintextOf(200));
        for (let index = 0; index < 4; index++) {
          const chunk = chunkOf(blob, index);
          for (let at = 0; at < chunk.length; at++) {
            const flipped = chunk.slice();
            flipped[at]! ^= 1 << (at % 8);
            const reason = await refusal(cipher.decrypt(index, index === 3, flipped));
            expect(reason, `chunk ${index} byte ${at}`).toBe("chunk_invalid");
          }
        }
      });

      it("refuses a chunk index that does not fit the nonce", async () => {
        const cipher = await vectorCipher();
        await expect(cipher.encrypt(2 ** 32, true, new Uint8Array(0))).rejects.toThrow(RangeError);
      });
    });

    describe("envelope keys", () => {
      it("open a new object's data key again from the manifest field alone", async () => {
        const { ring } = ringOf("k1", "k0");
        const { encryption, cipher } = await newObjectKey(ring, A);
        expect(encryption).toMatchObject({ scheme: "aes256gcm-stream-v1", kid: "k1" });
        expect(fromBase64(encryption.wrapped_key).length).toBe(60);
        const blob = await sealObject(cipher, plaintextOf(100));
        const reopened = await openObjectKey(ring, encryption, A);
        expect(await readSpan(reopened, blob, 100, { offset: 0, length: 100 })).toEqual(plaintextOf(100));
      });

      it("refuse two objects' wrapped keys swapped, before any chunk is decrypted", async () => {
        const { ring } = ringOf("k1");
        const a = await newObjectKey(ring, A);
        const b = await newObjectKey(ring, B);
        expect(await refusal(openObjectKey(ring, { ...a.encryption, wrapped_key: b.encryption.wrapped_key }, A))).toBe("wrapped_key_invalid");
        expect(await refusal(openObjectKey(ring, { ...b.encryption, wrapped_key: a.encryption.wrapped_key }, B))).toBe("wrapped_key_invalid");
        // The whole field moved to the other object, nonce prefix and all.
        expect(await refusal(openObjectKey(ring, a.encryption, B))).toBe("wrapped_key_invalid");
        expect(await refusal(openObjectKey(ring, a.encryption, { key: A.key, version: B.version }))).toBe("wrapped_key_invalid");
      });

      it("refuse an altered wrapped key, and one relabelled to another key id of the ring", async () => {
        const { ring } = ringOf("k1", "k0");
        const { encryption } = await newObjectKey(ring, A);
        const wrapped = fromBase64(encryption.wrapped_key);
        for (let at = 0; at < wrapped.length; at += 7) {
          const flipped = wrapped.slice();
          flipped[at]! ^= 0x80;
          expect(await refusal(openObjectKey(ring, { ...encryption, wrapped_key: toBase64(flipped) }, A)), `byte ${at}`).toBe("wrapped_key_invalid");
        }
        expect(await refusal(openObjectKey(ring, { ...encryption, kid: "k0" }, A))).toBe("wrapped_key_invalid");
      });

      it("report a key id missing from ENCRYPTION_KEYS as key_unavailable, which the gateway answers 503 misconfigured", async () => {
        const { encryption } = await newObjectKey(ringOf("k1").ring, A);
        const reason = await refusal(openObjectKey(ringOf("k2").ring, encryption, A));
        expect(reason).toBe("key_unavailable");
        expect(encryptionFailureCode(reason)).toBe("misconfigured");
        const tampering: EncryptionFailureReason[] = [
          "wrapped_key_invalid",
          "chunk_invalid",
          "manifest_unsigned",
          "manifest_signature_invalid",
          "manifest_malformed",
        ];
        for (const other of tampering) expect(encryptionFailureCode(other), other).toBe("integrity_failure");
      });

      it("refuse a malformed field instead of guessing", async () => {
        const { ring } = ringOf("k1");
        const { encryption } = await newObjectKey(ring, A);
        const cases: ManifestEncryption[] = [
          { ...encryption, wrapped_key: encryption.wrapped_key.slice(0, -4) },
          { ...encryption, nonce_prefix: toBase64(new Uint8Array(8)) },
          { ...encryption, scheme: "aes256gcm-stream-v2" as "aes256gcm-stream-v1" },
        ];
        for (const field of cases) expect(await refusal(openObjectKey(ring, field, A))).toBe("manifest_malformed");
      });

      it("rotate by re-wrapping: the same blob reads under the new key id, the old key can then go", async () => {
        const old = ringOf("k1");
        const { encryption, cipher } = await newObjectKey(old.ring, A);
        const blob = await sealObject(cipher, plaintextOf(200));
        // Step 1: a new current key, the old one kept. Reads of not yet re-wrapped objects keep working.
        const newKey = `k2=${randomKeyText()}`;
        const both = parseKeyRing(`${newKey},${old.text}`);
        expect(await readSpan(await openObjectKey(both, encryption, A), blob, 200, { offset: 0, length: 200 })).toEqual(plaintextOf(200));
        const rewrapped = await rewrapDataKey(both, encryption, A);
        expect(rewrapped.kid).toBe("k2");
        expect(rewrapped.nonce_prefix).toBe(encryption.nonce_prefix);
        expect(rewrapped.wrapped_key).not.toBe(encryption.wrapped_key);
        // Step 2: k1 retired. The re-wrapped object still reads, with no byte of its blob rewritten.
        const newOnly = parseKeyRing(newKey);
        expect(await readSpan(await openObjectKey(newOnly, rewrapped, A), blob, 200, { offset: 0, length: 200 })).toEqual(plaintextOf(200));
        expect(await refusal(openObjectKey(newOnly, encryption, A))).toBe("key_unavailable");
      });
    });

    describe("the ENCRYPTION_KEYS key ring", () => {
      it("takes comma-separated keyid=base64 entries, the first current, spaces around entries ignored", () => {
        const ring = parseKeyRing(` new=${randomKeyText()} , old-2024.1=${toBase64(sequence(0, 32)).replace(/=+$/, "")}`);
        expect(ring.current).toBe("new");
        expect(ring.ids).toEqual(["new", "old-2024.1"]);
        expect(ring.has("old-2024.1")).toBe(true);
        expect(ring.has("other")).toBe(false);
      });

      it("refuses every malformed value with a typed problem that names the entry, never the key", () => {
        const key = randomKeyText();
        const cases: [string, string, number][] = [
          ["", "empty", 0],
          ["  ", "empty", 0],
          [`k1=${key},`, "entry_malformed", 2],
          [`k1${key.replace(/=+$/, "")}`, "entry_malformed", 1],
          [`=${key}`, "key_id_invalid", 1],
          [`k 1=${key}`, "key_id_invalid", 1],
          [`${"k".repeat(65)}=${key}`, "key_id_invalid", 1],
          [`k1=${key},k1=${key}`, "key_id_duplicate", 2],
          [`k1=${key.replace(/[+/]/g, "-")}!`, "key_not_base64", 1],
          [`k1=${toBase64(new Uint8Array(31))}`, "key_length", 1],
          [`k1=${toBase64(new Uint8Array(33))}`, "key_length", 1],
        ];
        for (const [text, problem, entry] of cases) {
          let error: unknown;
          try {
            parseKeyRing(text);
          } catch (caught) {
            error = caught;
          }
          expect(error, text).toBeInstanceOf(KeyRingError);
          expect(error, text).toMatchObject({ problem, entry });
          expect((error as Error).message).not.toContain(key.slice(0, 8));
        }
      });
    });

    describe("signed manifests", () => {
      async function signedPair() {
        const keys = ringOf("k1", "k0");
        const a = await newObjectKey(keys.ring, A);
        const b = await newObjectKey(keys.ring, B);
        const manifestA = await signManifest(keys.ring, { ...plainManifest(A), encryption: a.encryption });
        const manifestB = await signManifest(keys.ring, { ...plainManifest(B), encryption: b.encryption });
        return { ...keys, manifestA, manifestB };
      }

      it("verify as signed, for the key and the pinned version", async () => {
        const { ring, manifestA } = await signedPair();
        expect(manifestA.signature?.kid).toBe("k1");
        expect(await verifyManifest(manifestA, { key: A.key }, policy(ring))).toEqual(manifestA);
        expect(await verifyManifest(manifestA, A, policy(ring))).toEqual(manifestA);
      });

      it("refuse every field altered, each on its own", async () => {
        const { ring, manifestA, manifestB } = await signedPair();
        const { chunks: _inline, ...inlineless } = plainManifest(A);
        const treeSigned = await signManifest(ring, { ...inlineless, tree: { root: "ef".repeat(32), fanout: 1024, pages: `trees/${A.version}` } });
        const alter = (base: StoredManifest, change: (copy: StoredManifest) => void): StoredManifest => {
          const copy = structuredClone(base);
          change(copy);
          return copy;
        };
        const e = (m: StoredManifest) => m.encryption!;
        const t = (m: StoredManifest) => m.tree!;
        const cases: [string, StoredManifest][] = [
          ["key", alter(manifestA, (m) => (m.key = B.key))],
          ["version", alter(manifestA, (m) => (m.version = B.version))],
          ["size", alter(manifestA, (m) => (m.size = 199))],
          ["sha256", alter(manifestA, (m) => (m.sha256 = "ac".repeat(32)))],
          ["sha256 case", alter(manifestA, (m) => (m.sha256 = m.sha256.toUpperCase()))],
          ["chunk_size", alter(manifestA, (m) => (m.chunk_size = 128))],
          ["a chunk digest", alter(manifestA, (m) => (m.chunks![2] = "05".repeat(32)))],
          ["chunk digests reordered", alter(manifestA, (m) => m.chunks!.reverse())],
          ["a chunk digest dropped", alter(manifestA, (m) => m.chunks!.pop())],
          ["chunks removed", alter(manifestA, (m) => delete m.chunks)],
          ["content_type", alter(manifestA, (m) => (m.content_type = "text/html"))],
          ["created_at", alter(manifestA, (m) => (m.created_at = "2026-12-02T00:00:00.000Z"))],
          ["keyid", alter(manifestA, (m) => (m.keyid = "intruder"))],
          ["blob", alter(manifestA, (m) => (m.blob = manifestB.blob))],
          ["encryption.scheme", alter(manifestA, (m) => (e(m).scheme = "aes256gcm-stream-v2" as "aes256gcm-stream-v1"))],
          ["encryption.kid", alter(manifestA, (m) => (e(m).kid = "k0"))],
          ["encryption.wrapped_key", alter(manifestA, (m) => (e(m).wrapped_key = e(manifestB).wrapped_key))],
          ["encryption.nonce_prefix", alter(manifestA, (m) => (e(m).nonce_prefix = e(manifestB).nonce_prefix))],
          ["encryption removed", alter(manifestA, (m) => delete m.encryption)],
          ["signature.kid", alter(manifestA, (m) => (m.signature!.kid = "k0"))],
          ["signature.mac", alter(manifestA, (m) => (m.signature!.mac = manifestB.signature!.mac))],
          ["tree.root", alter(treeSigned, (m) => (t(m).root = "ee".repeat(32)))],
          ["tree.fanout", alter(treeSigned, (m) => (t(m).fanout = 512))],
          ["tree.pages", alter(treeSigned, (m) => (t(m).pages = `trees/${B.version}`))],
          ["tree replaced by inline digests", alter(treeSigned, (m) => ((m.chunks = manifestA.chunks), delete m.tree))],
        ];
        expect(await verifyManifest(treeSigned, A, policy(ring))).toEqual(treeSigned);
        for (const [field, altered] of cases) {
          // Asked for under the altered manifest's own key and version, so only the signature can refuse it.
          const reason = await refusal(verifyManifest(altered, { key: altered.key, version: altered.version }, policy(ring)));
          // A signature relabelled to k0 fails k0's check value before its MAC: still refused, reported as the key.
          expect(reason, field).toBe(field === "signature.kid" ? "key_unavailable" : "manifest_signature_invalid");
        }
      });

      it("refuse two manifests swapped between objects, and a version served for another", async () => {
        const { ring, manifestA, manifestB } = await signedPair();
        expect(await refusal(verifyManifest(manifestB, { key: A.key }, policy(ring)))).toBe("manifest_signature_invalid");
        expect(await refusal(verifyManifest(manifestA, { key: B.key }, policy(ring)))).toBe("manifest_signature_invalid");
        const otherVersion = await signManifest(ring, { ...manifestA, version: B.version, blob: `blobs/${B.version}` });
        expect(await refusal(verifyManifest(otherVersion, A, policy(ring)))).toBe("manifest_signature_invalid");
      });

      it("refuse two manifests' wrapped keys swapped: at the signature, and at the envelope if a signature were forged", async () => {
        const { ring, manifestA, manifestB } = await signedPair();
        const grafted = { ...manifestA, encryption: manifestB.encryption };
        expect(await refusal(verifyManifest(grafted, A, policy(ring)))).toBe("manifest_signature_invalid");
        expect(await refusal(openObjectKey(ring, manifestB.encryption!, A))).toBe("wrapped_key_invalid");
      });

      it("refuse a field the signature does not cover, and will not sign one", async () => {
        const { ring, manifestA } = await signedPair();
        const extra = { ...manifestA, owner: "intruder" } as StoredManifest;
        expect(await refusal(verifyManifest(extra, A, policy(ring)))).toBe("manifest_malformed");
        expect(await refusal(signManifest(ring, extra))).toBe("manifest_malformed");
        const nested = structuredClone(manifestA) as unknown as { encryption: Record<string, unknown> };
        nested.encryption.extra = "x";
        expect(await refusal(verifyManifest(nested as unknown as StoredManifest, A, policy(ring)))).toBe("manifest_malformed");
        expect(await refusal(verifyManifest({ ...manifestA, size: "200" } as unknown as StoredManifest, A, policy(ring)))).toBe("manifest_malformed");
        expect(await refusal(verifyManifest({ ...manifestA, signature: { ...manifestA.signature!, mac: "short" } }, A, policy(ring)))).toBe(
          "manifest_malformed",
        );
      });

      it("read unsigned legacy manifests only with no keys configured, or behind the flag, and log each such read", async () => {
        const { ring } = ringOf("k1");
        const legacy = plainManifest(A);
        expect(await verifyManifest(legacy, A, policy(null))).toEqual(legacy);
        expect(await refusal(verifyManifest(legacy, A, policy(ring)))).toBe("manifest_unsigned");
        const flagged = policy(ring, true);
        expect(await verifyManifest(legacy, A, flagged)).toEqual(legacy);
        expect(flagged.log.events("unsigned_manifest_read")).toEqual([{ level: "warn", event: "unsigned_manifest_read", fields: A }]);
        // Signing the legacy manifest (what the rotation pass does) ends the need for the flag.
        expect(await verifyManifest(await signManifest(ring, legacy), A, policy(ring))).toBeTruthy();
      });

      it("never read an unsigned encrypted manifest, flag or not: encryption always signs", async () => {
        const { ring, manifestA } = await signedPair();
        const { signature: _dropped, ...stripped } = manifestA;
        expect(await refusal(verifyManifest(stripped, A, policy(ring, true)))).toBe("manifest_unsigned");
        expect(await refusal(verifyManifest(stripped, A, policy(null)))).toBe("manifest_unsigned");
      });

      it("report a missing or changed deployment key as key_unavailable (503 misconfigured), not as tampering", async () => {
        const { manifestA } = await signedPair();
        expect(await refusal(verifyManifest(manifestA, A, policy(null)))).toBe("key_unavailable");
        expect(await refusal(verifyManifest(manifestA, A, policy(ringOf("k2").ring)))).toBe("key_unavailable");
        // k1 present, but with other bytes than the key that signed: its check value differs.
        expect(await refusal(verifyManifest(manifestA, A, policy(ringOf("k1").ring)))).toBe("key_unavailable");
      });

      it("re-sign under the new current key on rotation; reads keep verifying before and after", async () => {
        const { ring, text, manifestA } = await signedPair();
        const next = parseKeyRing(`k2=${randomKeyText()},${text}`);
        expect(await verifyManifest(manifestA, A, policy(next))).toEqual(manifestA);
        const rotated = await signManifest(next, { ...manifestA, encryption: await rewrapDataKey(next, manifestA.encryption!, A) });
        expect(rotated.signature?.kid).toBe("k2");
        expect(rotated.encryption?.kid).toBe("k2");
        expect(await verifyManifest(rotated, A, policy(next))).toEqual(rotated);
        expect(await refusal(verifyManifest(rotated, A, policy(ring)))).toBe("key_unavailable");
      });
    });
  });
}
