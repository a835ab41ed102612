import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanBody as Plan } from "../../shared/objects/plan.ts";
import { newEd25519Key } from "../support/keys.ts";
import { problemOf } from "../support/problem.ts";
import { bytesOf, randomBytes, sha256Hex } from "./support/bytes.ts";
import { describeUnless, RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness, Signer } from "./support/wire.ts";

const CHUNK = 64 * 1024;
/** Three full chunks and half of a fourth, so the last range is short. */
const OBJECT_BYTES = 3.5 * CHUNK;
const JSON_HEADERS = { "content-type": "application/json" };
/** Workers: plans need the S3 API of the bucket, which the local R2 of `wrangler dev` does not have. */
const NO_LOCAL_S3_API = "the local R2 has no S3 API for a presigned URL to reach";
/**
 * A presigned URL's lifetime: X-Amz-Date is whole seconds, not after the signing, so the URL is refused at most this
 * long after the plan's answer, and served for most of it (the first fetch follows the answer at once).
 */
const URL_SECONDS = 3;

function plan(gateway: GatewayHarness, body: Record<string, unknown>, as?: Signer): Promise<Response> {
  return gateway.signedFetch("POST", "/v1/plans", { body: new TextEncoder().encode(JSON.stringify(body)), headers: JSON_HEADERS, ...(as ? { as } : {}) });
}

async function put(gateway: GatewayHarness, key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
  const response = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body });
  expect(response.status, await response.clone().text()).toBe(201);
}

async function scopedKey(gateway: GatewayHarness, keyid: string, actions: string[]): Promise<Signer> {
  const pair = await newEd25519Key();
  const created = await gateway.signedFetch("POST", "/v1/keys", {
    body: new TextEncoder().encode(JSON.stringify({ keyid, alg: "ed25519", public_key: pair.publicKey, scopes: [{ prefix: "", actions }] })),
    headers: JSON_HEADERS,
  });
  expect(created.status, await created.clone().text()).toBe(201);
  return { keyid, key: { alg: "ed25519", privateKey: pair.privateKey } };
}

/**
 * Direct download plans (PROTOCOL section 4) over real HTTP, every answer checked against the OpenAPI document. One
 * gateway per build: the AWS builds with `PRESIGN_STORAGE=on` against s3rver; Workers with it off, since the local R2
 * of `wrangler dev` has no S3 API for a plan's URL to reach.
 */
describe.each(RUNTIMES)("on %s, direct download plans", (runtime, start) => {
  const storagePresign = runtime !== "workers";
  const key = "plans/direct.bin";
  const bytes = randomBytes(OBJECT_BYTES);
  let gateway: GatewayHarness;

  beforeAll(async () => {
    gateway = await start({ CHUNK_SIZE_BYTES: String(CHUNK), ...(storagePresign ? { PRESIGN_STORAGE: "on" } : {}) });
    await put(gateway, key, bytes);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it(`answers 403 forbidden without presign or without read on the key; with both, ${storagePresign ? "200" : "403 presign_storage_disabled while storage presign is off"}`, async () => {
    const reader = await scopedKey(gateway, "plans-reader", ["read"]);
    const presigner = await scopedKey(gateway, "plans-presigner", ["presign"]);
    const both = await scopedKey(gateway, "plans-both", ["read", "presign"]);
    expect(await problemOf(await plan(gateway, { key }, reader))).toEqual({ status: 403, code: "forbidden" });
    expect(await problemOf(await plan(gateway, { key }, presigner))).toEqual({ status: 403, code: "forbidden" });
    if (storagePresign) expect((await plan(gateway, { key }, both)).status).toBe(200);
    else expect(await problemOf(await plan(gateway, { key }, both))).toEqual({ status: 403, code: "presign_storage_disabled" });
  });

  describeUnless(runtime, { workers: NO_LOCAL_S3_API })("with PRESIGN_STORAGE=on", () => {
    async function planOk(body: Record<string, unknown>): Promise<Plan> {
      const response = await plan(gateway, body);
      expect(response.status, await response.clone().text()).toBe(200);
      return (await response.json()) as Plan;
    }

    /** Chunk `index` of the plan's blob, fetched from storage with a Range header and no gateway in the way. */
    async function fetchChunk(answer: Plan, index: number): Promise<Uint8Array> {
      const first = index * answer.chunk_size;
      const last = Math.min(answer.size, first + answer.chunk_size) - 1;
      const response = await fetch(answer.url, { headers: { range: `bytes=${first}-${last}` } });
      expect(response.status).toBe(206);
      return bytesOf(response);
    }

    it("plans every chunk, and the URL serves each chunk's range straight from storage, hashing to its digest", async () => {
      const answer = await planOk({ key, expires_in: 120 });
      expect(answer).toMatchObject({ size: bytes.length, sha256: sha256Hex(bytes), chunk_size: CHUNK, first_chunk: 0, next_offset: null });
      expect(answer.chunks).toHaveLength(4);
      expect(new URL(answer.url).searchParams.get("X-Amz-Expires")).toBe("120");
      const received = new Uint8Array(bytes.length);
      // Out of order, as parallel fetches land.
      for (const index of [2, 0, 3, 1]) {
        const chunk = await fetchChunk(answer, index);
        expect(sha256Hex(chunk), `chunk ${index}`).toBe(answer.chunks[index]);
        received.set(chunk, index * CHUNK);
      }
      expect(sha256Hex(received)).toBe(answer.sha256);
      expect(received).toEqual(bytes);
    });

    it("plans a range in the middle pinned to the version, and the digests stay the gateway's when storage changes the bytes", async () => {
      const first = await planOk({ key });
      const middle = await planOk({ key, version: first.version, offset: CHUNK + 10, length: CHUNK });
      expect(middle).toMatchObject({ version: first.version, first_chunk: 1, chunks: first.chunks.slice(1, 3), next_offset: null });
      const manifest = (await gateway.kv.get(`obj:${key}`, "json")) as { blob: string };
      const altered = bytes.slice();
      altered[2 * CHUNK + 7]! ^= 0xff;
      await gateway.bucket.put(manifest.blob, altered);
      try {
        const again = await planOk({ key, version: first.version, offset: 2 * CHUNK });
        expect(again.chunks).toEqual(first.chunks.slice(2));
        expect(sha256Hex(await fetchChunk(again, 2))).not.toBe(again.chunks[0]);
      } finally {
        await gateway.bucket.put(manifest.blob, bytes);
      }
    });

    // s3rver 3.7 checks a presigned URL's X-Amz-Date and X-Amz-Expires (AccessDenied, "Request has expired"), though
    // not its signature (test/node/presign-storage.test.ts), so this expiry is storage's own, as S3 would refuse it.
    it("has storage serve the URL, then refuse it once it expired", async () => {
      const answer = await planOk({ key, expires_in: URL_SECONDS });
      expect((await fetchChunk(answer, 0)).length).toBe(CHUNK);
      await new Promise((resolve) => setTimeout(resolve, URL_SECONDS * 1000 + 100));
      const expired = await fetch(answer.url, { headers: { range: "bytes=0-0" } });
      expect(expired.status).toBe(403);
      expect(await expired.text()).toContain("<Message>Request has expired</Message>");
    });
  });
});
