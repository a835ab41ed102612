import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/crypto/encoding.ts";
import { DurableObjectSwapAuthority } from "../../shared/metadata/durable-object.ts";
import { KvMetadataStore } from "../../shared/metadata/kv-binding.ts";
import { treePageKey } from "../../shared/objects/digest-tree.ts";
import { type Manifest, readCurrent } from "../../shared/objects/manifest.ts";
import { MAX_PLAN_CHUNKS, type PlanBody as Plan } from "../../shared/objects/plan.ts";
import { R2ObjectStorage } from "../../shared/storage/r2-binding.ts";
import { workerdStreams } from "../../shared/streams/workerd.ts";
import { problemDetailOf, problemOf } from "../support/problem.ts";
import { RecordingLogger } from "../support/recording-logger.ts";
import { keyWithScopes, STORAGE_PRESIGN_ON, testGateway, type SignedInit, type TestGateway } from "./support/gateway.ts";
import { bytes, CHUNK, PLAIN, putBytes, sha256, uniqueKey } from "./support/objects-fixtures.ts";

/**
 * A plan's URL comes from the AWS presigner, imported on first use. In the test pool that first import goes module by
 * module through vite's runner (9.9 s measured, over 20 s under load: test/workerd/presign.test.ts), so it is done once
 * before the cases, where a slow load is set-up time rather than a case timing out.
 */
const LOAD_PRESIGNER_TIMEOUT_MS = 180_000;
/** Chunks this small give a digest tree (more than 1,024 chunks) in a few tens of KiB; the window math is the same at any size. */
const TINY_CHUNK = 16;
/** Two full windows and a short third: 2 x MAX_PLAN_CHUNKS + 5 chunks, the last one short. */
const TREE_OBJECT_BYTES = (2 * MAX_PLAN_CHUNKS + 4) * TINY_CHUNK + 7;

function plan(gateway: TestGateway, body: Record<string, unknown>, as?: SignedInit["as"]): Promise<Response> {
  return gateway.signed("POST", "/v1/plans", { body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...(as ? { as } : {}) });
}

async function planOk(gateway: TestGateway, body: Record<string, unknown>): Promise<Plan> {
  const response = await plan(gateway, body);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Plan;
}

async function put(gateway: TestGateway, key: string, data: Uint8Array<ArrayBuffer>): Promise<void> {
  const response = await gateway.signed("PUT", `/v1/objects/${key}`, { body: data, headers: { "content-length": String(data.length) } });
  expect(response.status).toBe(201);
}

/** The SHA-256 of every `chunkSize` slice of `data`, as a manifest lists them. */
async function chunkHexes(data: Uint8Array<ArrayBuffer>, chunkSize: number): Promise<string[]> {
  const slices = Array.from({ length: Math.ceil(data.length / chunkSize) }, (_, i) => data.slice(i * chunkSize, (i + 1) * chunkSize));
  return Promise.all(slices.map(async (slice) => toHex(await sha256(slice))));
}

function metadata(): KvMetadataStore {
  return new KvMetadataStore(env.META, new DurableObjectSwapAuthority(env.COMMITS));
}

/** A gateway with storage presign on and an object of 2.5 chunks (manifest v1) at `key`. */
async function withObject(vars: Record<string, string> = STORAGE_PRESIGN_ON) {
  const gateway = await testGateway({ CHUNK_SIZE_BYTES: String(CHUNK), ...vars });
  const key = uniqueKey("plan.bin");
  const data = bytes(2.5 * CHUNK, 7);
  await put(gateway, key, data);
  return { gateway, key, data };
}

/**
 * An object of more than 1,024 chunks, so its manifest holds a digest tree (v2): written through the object core on
 * the gateway's own R2 and KV, since the gateway's configuration allows no chunk below 64 KiB.
 */
async function withTreeObject() {
  const gateway = await testGateway({ CHUNK_SIZE_BYTES: String(CHUNK), ...STORAGE_PRESIGN_ON });
  const key = uniqueKey("tree.bin");
  const data = bytes(TREE_OBJECT_BYTES, 11);
  const deps = {
    storage: new R2ObjectStorage(env.OBJECTS),
    metadata: metadata(),
    log: new RecordingLogger(),
    clock: () => gateway.now,
    streams: workerdStreams,
    config: PLAIN,
  };
  const manifest = await putBytes(deps, key, data, { chunkSize: TINY_CHUNK, maxObjectBytes: TREE_OBJECT_BYTES });
  expect(manifest.tree).toBeDefined();
  return { gateway, key, data, manifest };
}

beforeAll(async () => {
  await import("../../shared/storage/s3-presign.ts");
}, LOAD_PRESIGNER_TIMEOUT_MS);

describe("POST /v1/plans: who may ask", () => {
  it("answers 403 forbidden to a key without presign, and to one without read, on the key", async () => {
    const { gateway, key } = await withObject();
    const prefix = key.slice(0, key.indexOf("/") + 1);
    const readOnly = await keyWithScopes(gateway, "plan-reader", [{ prefix, actions: ["read"] }]);
    const presignOnly = await keyWithScopes(gateway, "plan-presigner", [{ prefix, actions: ["presign"] }]);
    const both = await keyWithScopes(gateway, "plan-both", [{ prefix, actions: ["read", "presign"] }]);
    expect(await problemDetailOf(await plan(gateway, { key }, readOnly))).toEqual({
      status: 403,
      code: "forbidden",
      detail: `key plan-reader may not presign ${key}`,
    });
    expect(await problemDetailOf(await plan(gateway, { key }, presignOnly))).toEqual({
      status: 403,
      code: "forbidden",
      detail: `key plan-presigner may not read ${key}`,
    });
    expect((await plan(gateway, { key }, both)).status).toBe(200);
  });

  it("answers 403 presign_storage_disabled unless the operator set PRESIGN_STORAGE=on, S3 settings or not, and logs no plan", async () => {
    const { PRESIGN_STORAGE: _on, ...s3SettingsOnly } = STORAGE_PRESIGN_ON;
    for (const vars of [{}, s3SettingsOnly]) {
      const { gateway, key } = await withObject(vars);
      expect(await problemOf(await plan(gateway, { key })), JSON.stringify(vars)).toEqual({ status: 403, code: "presign_storage_disabled" });
      expect(gateway.log.events("presigned")).toEqual([]);
    }
  });

  it("answers 503 misconfigured while PRESIGN_STORAGE=on lacks the S3 keys Workers need to sign with", async () => {
    const { S3_ACCESS_KEY_ID: _id, S3_SECRET_ACCESS_KEY: _secret, ...withoutKeys } = STORAGE_PRESIGN_ON;
    const { gateway, key } = await withObject(withoutKeys);
    expect(await problemOf(await plan(gateway, { key }))).toEqual({ status: 503, code: "misconfigured" });
  });

  it("answers 400 to fields outside the contract, and 400 invalid_key_name to a bad key", async () => {
    const { gateway, key } = await withObject();
    for (const body of [
      {},
      { key: 7 },
      { key, offset: -1 },
      { key, offset: 1.5 },
      { key, offset: "0" },
      { key, length: 0 },
      { key, length: null },
      { key, expires_in: 0 },
      { key, expires_in: 3601 },
      { key, version: "latest" },
      { key, version: 12 },
    ]) {
      expect(await problemOf(await plan(gateway, body)), JSON.stringify(body)).toEqual({ status: 400, code: "bad_request" });
    }
    expect(await problemOf(await plan(gateway, { key: "a/../b" }))).toEqual({ status: 400, code: "invalid_key_name" });
  });
});

describe("POST /v1/plans: the window", () => {
  it("plans the whole object by default: the version's facts, every digest of its manifest, a presigned GET of its blob", async () => {
    const { gateway, key, data } = await withObject();
    const manifest = (await readCurrent({ metadata: metadata(), log: new RecordingLogger(), config: PLAIN }, key)) as Manifest;
    const answer = await planOk(gateway, { key, expires_in: 90 });
    expect(answer).toEqual({
      key,
      version: manifest.version,
      size: data.length,
      sha256: toHex(await sha256(data)),
      chunk_size: CHUNK,
      etag: `"${manifest.sha256}"`,
      first_chunk: 0,
      chunks: manifest.chunks,
      next_offset: null,
      url: expect.any(String),
      expires_at: new Date(gateway.now + 90_000).toISOString(),
    });
    expect(answer.chunks).toEqual(await chunkHexes(data, CHUNK));
    const url = new URL(answer.url);
    expect(url.origin).toBe(STORAGE_PRESIGN_ON.S3_ENDPOINT);
    expect(url.pathname).toBe(`/${STORAGE_PRESIGN_ON.S3_BUCKET}/${manifest.blob}`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("90");
    expect(gateway.log.events("presigned").map((entry) => entry.fields)).toEqual([
      expect.objectContaining({ key, version: manifest.version, mode: "direct", first_chunk: 0, chunk_count: 3, next_offset: null }),
    ]);
  });

  it("covers the whole chunks of a range: first, middle and last chunk, and a range across chunks", async () => {
    const { gateway, key, data } = await withObject();
    const hexes = await chunkHexes(data, CHUNK);
    const cases: [offset: number, length: number | undefined, first: number, count: number][] = [
      [0, 1, 0, 1],
      [CHUNK - 1, 1, 0, 1],
      [CHUNK, CHUNK, 1, 1],
      [CHUNK + 5, 10, 1, 1],
      [CHUNK - 1, 2, 0, 2],
      [2 * CHUNK, undefined, 2, 1],
      [data.length - 1, undefined, 2, 1],
      [CHUNK + 1, 10 * CHUNK, 1, 2],
    ];
    for (const [offset, length, first, count] of cases) {
      const answer = await planOk(gateway, { key, offset, ...(length === undefined ? {} : { length }) });
      expect({ first: answer.first_chunk, chunks: answer.chunks, next: answer.next_offset }, `offset ${offset} length ${length}`).toEqual({
        first,
        chunks: hexes.slice(first, first + count),
        next: null,
      });
    }
  });

  it("answers 416 range_not_satisfiable with the object's size to an offset at or past the end", async () => {
    const { gateway, key, data } = await withObject();
    for (const offset of [data.length, data.length + 1]) {
      const response = await plan(gateway, { key, offset });
      expect(response.headers.get("content-range")).toBe(`bytes */${data.length}`);
      expect(await problemOf(response)).toEqual({ status: 416, code: "range_not_satisfiable" });
    }
  });

  it("plans an empty object as one empty window", async () => {
    const { gateway } = await withObject();
    const key = uniqueKey("empty.bin");
    await put(gateway, key, new Uint8Array(0));
    expect(await planOk(gateway, { key })).toMatchObject({ size: 0, first_chunk: 0, chunks: [], next_offset: null });
    expect(await problemOf(await plan(gateway, { key, offset: 1 }))).toEqual({ status: 416, code: "range_not_satisfiable" });
  });

  it("answers 404 for a key with no object, and for a well-formed version it never had", async () => {
    const { gateway, key } = await withObject();
    expect(await problemOf(await plan(gateway, { key: uniqueKey("absent.bin") }))).toEqual({ status: 404, code: "not_found" });
    expect(await problemOf(await plan(gateway, { key, version: "01KAB0000000000000000000AB" }))).toEqual({ status: 404, code: "not_found" });
  });
});

describe("POST /v1/plans: a digest tree (manifest v2)", () => {
  it(`cuts a window at ${MAX_PLAN_CHUNKS} chunks and says where the next starts, windows that chain to the end with every digest`, async () => {
    const { gateway, key, data, manifest } = await withTreeObject();
    const hexes = await chunkHexes(data, TINY_CHUNK);
    const first = await planOk(gateway, { key });
    expect(first).toMatchObject({
      version: manifest.version,
      size: data.length,
      chunk_size: TINY_CHUNK,
      first_chunk: 0,
      next_offset: MAX_PLAN_CHUNKS * TINY_CHUNK,
    });
    expect(first.chunks).toEqual(hexes.slice(0, MAX_PLAN_CHUNKS));
    const second = await planOk(gateway, { key, version: first.version, offset: first.next_offset });
    expect(second).toMatchObject({ first_chunk: MAX_PLAN_CHUNKS, next_offset: 2 * MAX_PLAN_CHUNKS * TINY_CHUNK });
    expect(second.chunks).toEqual(hexes.slice(MAX_PLAN_CHUNKS, 2 * MAX_PLAN_CHUNKS));
    const last = await planOk(gateway, { key, version: first.version, offset: second.next_offset });
    expect(last).toMatchObject({ first_chunk: 2 * MAX_PLAN_CHUNKS, next_offset: null });
    expect(last.chunks).toEqual(hexes.slice(2 * MAX_PLAN_CHUNKS));
    expect(last.chunks).toHaveLength(5);
  });

  it("cuts a range longer than a window from its first chunk, and plans a range in the middle of the tree exactly", async () => {
    const { gateway, key, data } = await withTreeObject();
    const hexes = await chunkHexes(data, TINY_CHUNK);
    const cut = await planOk(gateway, { key, offset: 6 * TINY_CHUNK + 3, length: 1500 * TINY_CHUNK });
    expect(cut).toMatchObject({ first_chunk: 6, next_offset: (6 + MAX_PLAN_CHUNKS) * TINY_CHUNK });
    expect(cut.chunks).toEqual(hexes.slice(6, 6 + MAX_PLAN_CHUNKS));
    // The rest of the same range: it ends inside chunk 1506, so the window stops there and nothing is left.
    const rest = await planOk(gateway, { key, offset: cut.next_offset, length: 6 * TINY_CHUNK + 3 + 1500 * TINY_CHUNK - cut.next_offset! });
    expect(rest).toMatchObject({ first_chunk: 6 + MAX_PLAN_CHUNKS, next_offset: null });
    expect(rest.chunks).toEqual(hexes.slice(6 + MAX_PLAN_CHUNKS, 1507));
    const middle = await planOk(gateway, { key, offset: 1500 * TINY_CHUNK + 3, length: 20 });
    expect(middle).toMatchObject({ first_chunk: 1500, chunks: hexes.slice(1500, 1502), next_offset: null });
  });

  it("answers 502 integrity_failure, logged with the page, when a tree page in storage was altered, and never hands out its digests", async () => {
    const { gateway, key, manifest } = await withTreeObject();
    const page = treePageKey(manifest.tree!.pages, 0, 1);
    const stored = new Uint8Array(await (await env.OBJECTS.get(page))!.arrayBuffer());
    stored[5]! ^= 1;
    await env.OBJECTS.put(page, stored);
    // Chunks 0..1023 are all on page 0/0, which still checks against the root.
    expect((await plan(gateway, { key })).status).toBe(200);
    expect(await problemOf(await plan(gateway, { key, offset: MAX_PLAN_CHUNKS * TINY_CHUNK }))).toEqual({ status: 502, code: "integrity_failure" });
    expect(gateway.log.events("integrity_failure").map((entry) => entry.fields)).toEqual([
      expect.objectContaining({ key, version: manifest.version, chunk: MAX_PLAN_CHUNKS, reason: "tree_page_mismatch", tree_page: page }),
    ]);
  });
});

describe("POST /v1/plans: a pinned version", () => {
  it("keeps planning the version a first window returned after an overwrite, while a plan without version gets the new one", async () => {
    const { gateway, key, data } = await withObject();
    const old = await planOk(gateway, { key });
    gateway.now += 1000;
    const newer = bytes(CHUNK + 1, 9);
    await put(gateway, key, newer);
    const pinned = await planOk(gateway, { key, version: old.version, offset: CHUNK });
    expect(pinned).toMatchObject({
      version: old.version,
      size: data.length,
      sha256: old.sha256,
      first_chunk: 1,
      chunks: old.chunks.slice(1),
      next_offset: null,
    });
    expect(new URL(pinned.url).pathname).toBe(new URL(old.url).pathname);
    const current = await planOk(gateway, { key });
    expect(current).toMatchObject({ size: newer.length, sha256: toHex(await sha256(newer)), chunks: await chunkHexes(newer, CHUNK) });
    expect(current.version).not.toBe(old.version);
  });

  it("answers 404 for a pinned version once its key was deleted, as a gateway link does, and for a version of another key", async () => {
    const { gateway, key } = await withObject();
    const old = await planOk(gateway, { key });
    const other = uniqueKey("other.bin");
    await put(gateway, other, bytes(10, 3));
    expect(await problemOf(await plan(gateway, { key: other, version: old.version }))).toEqual({ status: 404, code: "not_found" });
    gateway.now += 1000;
    expect((await gateway.signed("DELETE", `/v1/objects/${key}`)).status).toBe(204);
    expect(await problemOf(await plan(gateway, { key, version: old.version }))).toEqual({ status: 404, code: "not_found" });
    expect(await problemOf(await plan(gateway, { key }))).toEqual({ status: 404, code: "not_found" });
  });
});
