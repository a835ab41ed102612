import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemDetailOf, problemOf } from "../support/problem.ts";
import { bytesOf, randomBytes, sha256Hex } from "./support/bytes.ts";
import { batchOne, followAction, mintLfsToken } from "./support/lfs-client.ts";
import { describeUnless, itUnless, RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness, WireResponse } from "./support/wire.ts";
import type { StoredManifest } from "../../shared/objects/manifest-signature.ts";

/** The smallest chunk the gateway accepts, so multi-chunk objects stay small. */
const CHUNK = 64 * 1024;
const TAG = 16;
const SIZE = 3.5 * CHUNK;
const PART = 5 * 1024 * 1024;
/** Small, so an LFS object just above it needs a storage upload a plain deployment with storage presign would offer. */
const MAX_OBJECT_BYTES = 8 * 1024 * 1024;
const KEY_BYTES = Buffer.alloc(32, 7).toString("base64");
const OTHER_KEY_BYTES = Buffer.alloc(32, 9).toString("base64");
const PRESIGN_SECRET = "presign-secret-for-the-wire-contract-0123456789";
const JSON_HEADERS = { "content-type": "application/json" };
const ENCRYPTED_AT_REST = "objects are encrypted at rest";
const NO_LOCAL_S3_API = "the local R2 has no S3 API for a presigned URL to reach";

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const sealedChunk = (index: number) => ({ start: index * (CHUNK + TAG), end: (index + 1) * (CHUNK + TAG) });

function expectProblem(response: WireResponse | null, status: number, code: string): void {
  expect(response, "the connection closed before a status line").not.toBeNull();
  expect(response!.status).toBe(status);
  expect((JSON.parse(Buffer.from(response!.body).toString("utf8")) as { code: string }).code).toBe(code);
}

/**
 * Encryption at rest (docs/ENCRYPTION.md) over real HTTP on every build: what storage holds, every tampering of it or
 * of the manifests refused before a byte the gateway did not seal for that object reaches a client, Range, and the
 * paths that must keep working (links, LFS, upload sessions) or refuse (storage presign).
 */
describe.each(RUNTIMES)("encryption at rest on %s", (runtime, start) => {
  const storagePresign = runtime !== "workers";
  let gateway: GatewayHarness;
  let keyCounter = 0;

  beforeAll(async () => {
    gateway = await start({
      ENCRYPTION_KEYS: `k1=${KEY_BYTES}`,
      UNSIGNED_MANIFESTS: "read",
      CHUNK_SIZE_BYTES: String(CHUNK),
      MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES),
      UPLOAD_PART_BYTES: String(PART),
      PRESIGN_SECRET,
      ...(storagePresign ? { PRESIGN_STORAGE: "on" } : {}),
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  async function upload(bytes: Uint8Array<ArrayBuffer>, key = `enc/${keyCounter++}.bin`, into = gateway): Promise<StoredManifest> {
    const response = await into.signedFetch("PUT", `/v1/objects/${key}`, { body: bytes });
    expect(response.status, await response.clone().text()).toBe(201);
    return manifestOf(key, into);
  }

  async function manifestOf(key: string, from = gateway): Promise<StoredManifest> {
    const manifest = (await from.kv.get(`obj:${key}`, "json")) as StoredManifest | null;
    if (!manifest) throw new Error(`no manifest for ${key}`);
    return manifest;
  }

  async function stored(manifest: StoredManifest, from = gateway): Promise<Uint8Array<ArrayBuffer>> {
    const object = await from.bucket.get(manifest.blob);
    if (!object) throw new Error(`no blob ${manifest.blob}`);
    return new Uint8Array(await object.arrayBuffer());
  }

  /** Puts `manifest` back as the current and pinned record of its key, as a metadata writer would. */
  async function writeManifest(manifest: StoredManifest, into = gateway): Promise<void> {
    await into.kv.put(`obj:${manifest.key}`, JSON.stringify(manifest));
    await into.kv.put(`ver:${manifest.version}`, JSON.stringify(manifest));
  }

  async function refusal(key: string, mark: number): Promise<{ reason: unknown; chunk: unknown }> {
    const event = await gateway.waitForEvent("integrity_failure", (line) => line.key === key, mark);
    return { reason: event.reason, chunk: event.chunk };
  }

  describe("storage holds only ciphertext", () => {
    it("stores size + 16 bytes per chunk, no 32-byte run of the plaintext, ciphertext chunk digests, and reads back whole", async () => {
      const plaintext = randomBytes(SIZE);
      const manifest = await upload(plaintext);
      expect(manifest.encryption).toMatchObject({ scheme: "aes256gcm-stream-v1", kid: "k1" });
      const blob = await stored(manifest);
      expect(blob.length).toBe(SIZE + 4 * TAG);
      for (let offset = 0; offset + 32 <= SIZE; offset += 4096) {
        expect(Buffer.from(blob).indexOf(plaintext.subarray(offset, offset + 32)), `plaintext at ${offset} is in the blob`).toBe(-1);
      }
      expect(manifest.chunks).toEqual([0, 1, 2, 3].map((index) => sha256Hex(blob.subarray(sealedChunk(index).start, sealedChunk(index).end))));
      const read = await gateway.signedFetch("GET", `/v1/objects/${manifest.key}`);
      expect(read.headers.get("etag")).toBe(`"${sha256Hex(plaintext)}"`);
      expect(Buffer.compare(await bytesOf(read), plaintext)).toBe(0);
    });

    it("stores an empty object as one bare tag, and reads it back empty", async () => {
      const manifest = await upload(new Uint8Array(0));
      const blob = await stored(manifest);
      expect(blob.length).toBe(TAG);
      expect(manifest.chunks).toEqual([sha256Hex(blob)]);
      const read = await gateway.wireGet(`/v1/objects/${manifest.key}`);
      expect(read).toMatchObject({ status: 200, complete: true });
      expect(read!.body.length).toBe(0);
    });
  });

  describe("Range decrypts only the chunks it covers", () => {
    const plaintext = randomBytes(SIZE);
    let key: string;
    beforeAll(async () => {
      key = (await upload(plaintext)).key;
    });
    const ranges: [label: string, first: number, last: number][] = [
      ["the first byte", 0, 0],
      ["inside one chunk", 1000, 2000],
      ["the last byte of a chunk", CHUNK - 1, CHUNK - 1],
      ["across a chunk boundary", CHUNK - 5, CHUNK + 4],
      ["exactly one chunk", CHUNK, 2 * CHUNK - 1],
      ["two whole chunks from a boundary", CHUNK, 3 * CHUNK - 1],
      ["the short last chunk", 3 * CHUNK, SIZE - 1],
      ["the last byte", SIZE - 1, SIZE - 1],
    ];
    for (const [label, first, last] of ranges) {
      it(`serves ${label} (bytes=${first}-${last}) as 206 with exactly those bytes`, async () => {
        const response = await gateway.wireGet(`/v1/objects/${key}`, { range: `bytes=${first}-${last}` });
        expect(response).toMatchObject({ status: 206, complete: true });
        expect(response!.headers["content-range"]).toBe(`bytes ${first}-${last}/${SIZE}`);
        expect(Buffer.compare(response!.body, plaintext.subarray(first, last + 1))).toBe(0);
      });
    }
  });

  describe("tampered storage is refused before an unauthenticated byte reaches the client", () => {
    it("refuses two objects' blobs swapped (same size)", async () => {
      const [one, two] = [await upload(randomBytes(SIZE)), await upload(randomBytes(SIZE))];
      const [oneBlob, twoBlob] = [await stored(one), await stored(two)];
      await gateway.bucket.put(one.blob, twoBlob);
      await gateway.bucket.put(two.blob, oneBlob);
      for (const manifest of [one, two]) {
        const mark = gateway.logs().length;
        expectProblem(await gateway.wireGet(`/v1/objects/${manifest.key}`), 502, "integrity_failure");
        expect(await refusal(manifest.key, mark)).toEqual({ reason: "digest_mismatch", chunk: 0 });
      }
    });

    it("refuses the last chunk truncated, inside it and at the chunk boundary", async () => {
      const plaintext = randomBytes(SIZE);
      const manifest = await upload(plaintext);
      const blob = await stored(manifest);
      for (const cut of [blob.slice(0, -1), blob.slice(0, sealedChunk(3).start)]) {
        await gateway.bucket.put(manifest.blob, cut);
        const mark = gateway.logs().length;
        expectProblem(await gateway.wireGet(`/v1/objects/${manifest.key}`), 502, "integrity_failure");
        expect(await refusal(manifest.key, mark)).toEqual({ reason: "size_mismatch", chunk: null });
      }
    });

    it("refuses chunks reordered", async () => {
      const manifest = await upload(randomBytes(SIZE));
      const blob = await stored(manifest);
      const reordered = blob.slice();
      reordered.set(blob.subarray(sealedChunk(1).start, sealedChunk(1).end), sealedChunk(0).start);
      reordered.set(blob.subarray(sealedChunk(0).start, sealedChunk(0).end), sealedChunk(1).start);
      await gateway.bucket.put(manifest.blob, reordered);
      const mark = gateway.logs().length;
      expectProblem(await gateway.wireGet(`/v1/objects/${manifest.key}`), 502, "integrity_failure");
      expect(await refusal(manifest.key, mark)).toEqual({ reason: "digest_mismatch", chunk: 0 });
    });

    it("refuses a chunk from another version of the same key: the body stops before it", async () => {
      const key = `enc/${keyCounter++}.bin`;
      const older = await upload(randomBytes(SIZE), key);
      const plaintext = randomBytes(SIZE);
      const newer = await upload(plaintext, key);
      const grafted = await stored(newer);
      grafted.set((await stored(older)).subarray(sealedChunk(2).start, sealedChunk(2).end), sealedChunk(2).start);
      await gateway.bucket.put(newer.blob, grafted);
      const mark = gateway.logs().length;
      const response = await gateway.wireGet(`/v1/objects/${key}`);
      expect(response).toMatchObject({ status: 200, complete: false });
      expect(response!.body.length).toBeLessThanOrEqual(2 * CHUNK);
      expect(Buffer.compare(response!.body, plaintext.subarray(0, response!.body.length))).toBe(0);
      expect(await refusal(key, mark)).toEqual({ reason: "digest_mismatch", chunk: 2 });
    });

    for (const [label, index] of [
      ["first", 0],
      ["middle", 1],
      ["last", 3],
    ] as const) {
      it(`refuses a flipped ciphertext bit in the ${label} chunk (tag included)`, async () => {
        const plaintext = randomBytes(SIZE);
        const manifest = await upload(plaintext);
        const blob = await stored(manifest);
        blob[sealedChunk(index).start + (index === 3 ? CHUNK / 2 + TAG - 1 : CHUNK + TAG - 1)]! ^= 0x01;
        await gateway.bucket.put(manifest.blob, blob);
        const mark = gateway.logs().length;
        const response = await gateway.wireGet(`/v1/objects/${manifest.key}`);
        if (index === 0) expectProblem(response, 502, "integrity_failure");
        else {
          expect(response).toMatchObject({ status: 200, complete: false });
          expect(response!.body.length).toBeLessThanOrEqual(index * CHUNK);
          expect(Buffer.compare(response!.body, plaintext.subarray(0, response!.body.length))).toBe(0);
        }
        expect(await refusal(manifest.key, mark)).toEqual({ reason: "digest_mismatch", chunk: index });
      });
    }
  });

  describe("tampered metadata is refused before any decryption", () => {
    it("refuses two manifests' wrapped keys swapped", async () => {
      const [one, two] = [await upload(randomBytes(SIZE)), await upload(randomBytes(SIZE))];
      await writeManifest({ ...one, encryption: two.encryption! });
      await writeManifest({ ...two, encryption: one.encryption! });
      for (const manifest of [one, two]) {
        const mark = gateway.logs().length;
        expectProblem(await gateway.wireGet(`/v1/objects/${manifest.key}`), 502, "integrity_failure");
        const { reason } = await refusal(manifest.key, mark);
        expect(["manifest_signature_invalid", "wrapped_key_invalid"]).toContain(reason);
      }
    });

    it("refuses an encrypted manifest with its signature removed, even with UNSIGNED_MANIFESTS=read", async () => {
      const manifest = await upload(randomBytes(CHUNK));
      const { signature: _signature, ...unsigned } = manifest as StoredManifest & { signature?: unknown };
      await writeManifest(unsigned);
      const mark = gateway.logs().length;
      expectProblem(await gateway.wireGet(`/v1/objects/${manifest.key}`), 502, "integrity_failure");
      expect((await refusal(manifest.key, mark)).reason).toBe("manifest_unsigned");
    });
  });

  describe("deployment keys", () => {
    let other: GatewayHarness;
    let plain: GatewayHarness;
    beforeAll(async () => {
      [other, plain] = await Promise.all([
        start({ ENCRYPTION_KEYS: `k1=${OTHER_KEY_BYTES}`, CHUNK_SIZE_BYTES: String(CHUNK) }),
        start({ CHUNK_SIZE_BYTES: String(CHUNK) }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([other?.stop(), plain?.stop()]);
    });

    /** Copies an object's manifest and blob from one gateway's stores into another's. */
    async function copy(manifest: StoredManifest, from: GatewayHarness, into: GatewayHarness): Promise<void> {
      await into.bucket.put(manifest.blob, await stored(manifest, from));
      await writeManifest(manifest, into);
    }

    it("answers 503 misconfigured, never bytes, where the key id holds other bytes or ENCRYPTION_KEYS is unset", async () => {
      const manifest = await upload(randomBytes(SIZE));
      for (const into of [other, plain]) {
        await copy(manifest, gateway, into);
        const mark = into.logs().length;
        expectProblem(await into.wireGet(`/v1/objects/${manifest.key}`), 503, "misconfigured");
        const event = await into.waitForEvent("encryption_key_unavailable", (line) => line.key === manifest.key, mark);
        expect(event.reason).toBe("key_unavailable");
      }
    });

    it("serves an object written before encryption was enabled, with UNSIGNED_MANIFESTS=read, and logs the read", async () => {
      const plaintext = randomBytes(SIZE);
      const key = `legacy/${keyCounter++}.bin`;
      const manifest = await upload(plaintext, key, plain);
      expect(manifest.encryption).toBeUndefined();
      await copy(manifest, plain, gateway);
      const mark = gateway.logs().length;
      const read = await gateway.signedFetch("GET", `/v1/objects/${key}`);
      expect(read.status).toBe(200);
      expect(Buffer.compare(await bytesOf(read), plaintext)).toBe(0);
      await gateway.waitForEvent("unsigned_manifest_read", (line) => line.key === key, mark);
      const ranged = await gateway.wireGet(`/v1/objects/${key}`, { range: `bytes=${CHUNK - 3}-${CHUNK + 2}` });
      expect(Buffer.compare(ranged!.body, plaintext.subarray(CHUNK - 3, CHUNK + 3))).toBe(0);
    });
  });

  describe("paths that serve through the gateway keep working", () => {
    it("serves a gateway link (/v1/dl) of an encrypted object, whole and as a Range", async () => {
      const plaintext = randomBytes(SIZE);
      const manifest = await upload(plaintext);
      const answer = await gateway.signedFetch("POST", "/v1/presign", { body: json({ key: manifest.key, mode: "gateway" }), headers: JSON_HEADERS });
      expect(answer.status, await answer.clone().text()).toBe(200);
      const { url } = (await answer.json()) as { url: string };
      expect(Buffer.compare(await bytesOf(await fetch(url)), plaintext)).toBe(0);
      const ranged = await fetch(url, { headers: { range: `bytes=${CHUNK}-${CHUNK + 9}` } });
      expect(ranged.status).toBe(206);
      expect(Buffer.compare(await bytesOf(ranged), plaintext.subarray(CHUNK, CHUNK + 10))).toBe(0);
    });

    it("uploads and downloads a Git LFS object through the batch API, stored encrypted", async () => {
      const repo = "encrypted";
      const write = await mintLfsToken(gateway, repo, "write");
      const bytes = randomBytes(SIZE);
      const object = { oid: sha256Hex(bytes), size: bytes.length };
      const up = await batchOne(gateway, repo, write.token, "upload", object);
      expect((await followAction(gateway, up.actions!.upload!, "PUT", { body: bytes })).status).toBe(200);
      expect((await followAction(gateway, up.actions!.verify!, "POST", { body: JSON.stringify(object) })).status).toBe(200);
      const manifest = await manifestOf(`lfs/${repo}/${object.oid}`);
      expect(manifest.encryption?.kid).toBe("k1");
      expect(Buffer.from(await stored(manifest)).indexOf(bytes.subarray(0, 32))).toBe(-1);
      const down = await batchOne(gateway, repo, write.token, "download", object);
      const response = await followAction(gateway, down.actions!.download!, "GET");
      expect(response.status).toBe(200);
      expect(
        createHash("sha256")
          .update(await bytesOf(response))
          .digest("hex"),
      ).toBe(object.oid);
    });

    itUnless(runtime, { lambda: "a Lambda Function URL cannot carry a 5 MiB part, and direct parts are refused under encryption" })(
      "completes an upload session whose parts go through the gateway; a part re-sent with another digest is 409",
      async () => {
        const key = `sessions/${keyCounter++}.bin`;
        const data = randomBytes(PART + 2 * CHUNK + 5);
        const created = await gateway.signedFetch("POST", "/v1/uploads", {
          body: json({ key, size: data.length, sha256: sha256Hex(data) }),
          headers: JSON_HEADERS,
        });
        expect(created.status, await created.clone().text()).toBe(201);
        const session = (await created.json()) as { upload_id: string; part_size: number; direct_parts: boolean };
        expect(session.direct_parts).toBe(false);
        const partOf = (part: number) => data.slice((part - 1) * session.part_size, part * session.part_size);
        const send = (part: number, body: Uint8Array<ArrayBuffer>) =>
          gateway.signedFetch("PUT", `/v1/uploads/${session.upload_id}/parts/${part}`, { body, headers: { "content-length": String(body.length) } });
        for (const part of [2, 1]) expect((await send(part, partOf(part))).status).toBe(200);
        const again = await send(2, partOf(2));
        expect(again.status).toBe(200);
        const changed = await problemDetailOf(await send(2, randomBytes(partOf(2).length)));
        expect(changed).toMatchObject({ status: 409, code: "already_exists", detail: "part 2 was already sent with another digest" });
        const presigned = await gateway.signedFetch("POST", `/v1/uploads/${session.upload_id}/parts/1/presign`, {
          body: json({ sha256: sha256Hex(partOf(1)) }),
          headers: JSON_HEADERS,
        });
        expect(await problemDetailOf(presigned)).toMatchObject({ status: 403, code: "presign_storage_disabled", detail: ENCRYPTED_AT_REST });
        let response: Response;
        do response = await gateway.signedFetch("POST", `/v1/uploads/${session.upload_id}/complete`, { body: json({}), headers: JSON_HEADERS });
        while (response.status === 202);
        expect(response.status, await response.clone().text()).toBe(201);
        const manifest = await manifestOf(key);
        expect(manifest.encryption?.kid).toBe("k1");
        expect((await stored(manifest)).length).toBe(data.length + Math.ceil(data.length / CHUNK) * TAG);
        const read = await gateway.signedFetch("GET", `/v1/objects/${key}`);
        expect(sha256Hex(await bytesOf(read))).toBe(sha256Hex(data));
        const ranged = await gateway.wireGet(`/v1/objects/${key}`, { range: `bytes=${PART - 2}-${PART + 1}` });
        expect(Buffer.compare(ranged!.body, data.subarray(PART - 2, PART + 2))).toBe(0);
      },
    );
  });

  itUnless(runtime, { lambda: "a Lambda Function URL cannot carry a 5 MiB part, and direct parts are refused under encryption" })(
    "fails a session whose part body differs from its signed digest once encrypted: its data key is never used again",
    async () => {
      const key = `sessions/${keyCounter++}.bin`;
      const data = randomBytes(3 * CHUNK);
      const created = await gateway.signedFetch("POST", "/v1/uploads", {
        body: json({ key, size: data.length, sha256: sha256Hex(data) }),
        headers: JSON_HEADERS,
      });
      const session = (await created.json()) as { upload_id: string };
      const part = `/v1/uploads/${session.upload_id}/parts/1`;
      const other = randomBytes(data.length);
      const wrong = await gateway.signedFetch("PUT", part, { body: other, signedBody: data, headers: { "content-length": String(data.length) } });
      expect(await problemOf(wrong)).toEqual({ status: 400, code: "digest_mismatch" });
      const retry = await gateway.signedFetch("PUT", part, { body: data, headers: { "content-length": String(data.length) } });
      expect(await problemOf(retry)).toEqual({ status: 409, code: "upload_closed" });
    },
  );

  describeUnless(runtime, { workers: NO_LOCAL_S3_API })("storage presign is refused (the store holds only ciphertext)", () => {
    it("answers 403 presign_storage_disabled to a storage presign and to a download plan", async () => {
      const manifest = await upload(randomBytes(CHUNK));
      const presign = await gateway.signedFetch("POST", "/v1/presign", { body: json({ key: manifest.key, mode: "storage" }), headers: JSON_HEADERS });
      expect(await problemDetailOf(presign)).toMatchObject({ status: 403, code: "presign_storage_disabled", detail: ENCRYPTED_AT_REST });
      const plan = await gateway.signedFetch("POST", "/v1/plans", { body: json({ key: manifest.key }), headers: JSON_HEADERS });
      expect(await problemDetailOf(plan)).toMatchObject({ status: 403, code: "presign_storage_disabled", detail: ENCRYPTED_AT_REST });
    });

    it("gives an LFS upload too large for one request the per-object 422, not a storage URL", async () => {
      const repo = "big";
      const write = await mintLfsToken(gateway, repo, "write");
      const large = { oid: "a".repeat(64), size: MAX_OBJECT_BYTES + 1 };
      const answer = await batchOne(gateway, repo, write.token, "upload", large);
      expect(answer.actions).toBeUndefined();
      expect(answer.error?.code).toBe(422);
      expect(answer.error?.message).toMatch(new RegExp(`^${MAX_OBJECT_BYTES + 1} bytes; uploads through this gateway`));
    });
  });
});
