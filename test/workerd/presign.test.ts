import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import type { Backends } from "../../functions/context.ts";
import { KvMetadataStore } from "../../shared/metadata/kv-binding.ts";
import { DurableObjectReplayStore } from "../../shared/replay/durable-object.ts";
import type { ReplayStore } from "../../shared/replay/index.ts";
import { sweepGarbage } from "../../shared/objects/garbage.ts";
import { R2ObjectStorage } from "../../shared/storage/r2-binding.ts";
import { newEd25519Key } from "../support/keys.ts";
import { STORAGE_PRESIGN_ON, testGateway, type SignedInit, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

const CHUNK = 64 * 1024;
const SECRET = "presign-secret-for-tests-0123456789abcdef";
const SINGLE_USE_RACE = 50;
/** The first storage presign of a run imports the AWS SDK into workerd: over 5 s measured on a loaded 2-core machine. */
const SDK_IMPORT_TIMEOUT_MS = 30_000;

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65_536) crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65_536)));
  return bytes;
}

async function withObject(vars: Record<string, string> = {}, overrides: Partial<Backends> = {}) {
  const gateway = await testGateway({ PRESIGN_SECRET: SECRET, CHUNK_SIZE_BYTES: String(CHUNK), ...vars }, overrides);
  const bytes = randomBytes(2.5 * CHUNK);
  const put = await gateway.signed("PUT", "/v1/objects/share/model.bin", { body: bytes, headers: { "content-length": String(bytes.length) } });
  expect(put.status).toBe(201);
  return { gateway, bytes };
}

async function presign(gateway: TestGateway, body: Record<string, unknown>, as?: SignedInit["as"]) {
  return gateway.signed("POST", "/v1/presign", { body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...(as ? { as } : {}) });
}

async function linkFor(gateway: TestGateway, body: Record<string, unknown> = {}): Promise<string> {
  const response = await presign(gateway, { key: "share/model.bin", ...body });
  expect(response.status).toBe(200);
  return ((await response.json()) as { url: string }).url;
}

describe("gateway links", () => {
  it("serve the pinned bytes without a signature, with the integrity block in the presign answer", async () => {
    const { gateway, bytes } = await withObject();
    const response = await presign(gateway, { key: "share/model.bin", expires_in: 120 });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      method: "GET",
      mode: "gateway",
      expires_at: new Date(gateway.now + 120_000).toISOString().replace(/\.\d{3}Z$/, ".000Z"),
      integrity: { sha256: toHex(await sha256(bytes)), size: bytes.length, chunk_size: CHUNK },
    });
    expect(String(body.url)).toMatch(/^http:\/\/gateway\.test\/v1\/dl\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const download = await gateway.fetch(new Request(String(body.url)));
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
    const head = await gateway.fetch(new Request(String(body.url), { method: "HEAD" }));
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
  });

  it("answer 410 link_expired once the expiry has passed", async () => {
    const { gateway } = await withObject();
    const url = await linkFor(gateway, { expires_in: 60 });
    gateway.now += 60_000;
    expect((await gateway.fetch(new Request(url))).status).toBe(200);
    gateway.now += 1_000;
    expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 410, code: "link_expired" });
  });

  it("refuse a token altered in its payload or its MAC as 404", async () => {
    const { gateway } = await withObject();
    const url = await linkFor(gateway);
    const token = url.slice(url.lastIndexOf("/") + 1);
    const [payload, mac] = token.split(".") as [string, string];
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    for (const altered of [`${flip(payload, 5)}.${mac}`, `${payload}.${flip(mac, 3)}`, `${payload}.${mac.slice(0, -2)}`]) {
      expect(await problemOf(await gateway.fetch(new Request(`http://gateway.test/v1/dl/${altered}`)))).toMatchObject({ status: 404, code: "not_found" });
    }
  });

  it("keep serving the pinned version after an overwrite, and 404 once its blob is swept", async () => {
    const { gateway, bytes } = await withObject();
    const url = await linkFor(gateway, { expires_in: 3600 });
    const newer = randomBytes(100);
    await gateway.signed("PUT", "/v1/objects/share/model.bin", { body: newer, headers: { "content-length": "100" } });
    expect(new Uint8Array(await (await gateway.fetch(new Request(url))).arrayBuffer())).toEqual(bytes);
    await sweepGarbage({ storage: new R2ObjectStorage(env.OBJECTS), metadata: new KvMetadataStore(env.META), log: gateway.log }, gateway.now + 2 * 3600_000);
    expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("answer 410 link_revoked once the issuing key is revoked", async () => {
    const { gateway } = await withObject();
    const user = await newEd25519Key();
    await gateway.signed("POST", "/v1/keys", {
      body: JSON.stringify({ keyid: "sharer", alg: "ed25519", public_key: user.publicKey, scopes: [{ prefix: "share/", actions: ["read", "presign"] }] }),
    });
    const as = { keyid: "sharer", key: { alg: "ed25519" as const, privateKey: user.privateKey } };
    const url = ((await (await presign(gateway, { key: "share/model.bin" }, as)).json()) as { url: string }).url;
    expect((await gateway.fetch(new Request(url))).status).toBe(200);
    await gateway.signed("DELETE", "/v1/keys/sharer");
    expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 410, code: "link_revoked" });
  });

  it(`give exactly one download to ${SINGLE_USE_RACE} concurrent uses of a single-use link`, async () => {
    const { gateway } = await withObject();
    const url = await linkFor(gateway, { single_use: true });
    expect((await gateway.fetch(new Request(url, { method: "HEAD" }))).status).toBe(200);
    const responses = await Promise.all(Array.from({ length: SINGLE_USE_RACE }, () => gateway.fetch(new Request(url))));
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    const refused = await Promise.all(responses.filter((response) => response.status !== 200).map(problemOf));
    expect(new Set(refused.map((problem) => `${problem.status} ${problem.code}`))).toEqual(new Set(["410 link_used"]));
  });

  it("answer 503 replay_store_unavailable when the store cannot claim a single-use link, which then still works once it can", async () => {
    let storeDown = false;
    const store = new DurableObjectReplayStore(env.REPLAY);
    const replay: ReplayStore = {
      backend: store.backend,
      atomic: store.atomic,
      claim: (id, window) => (storeDown ? Promise.reject(new Error("replay shard unreachable")) : store.claim(id, window)),
    };
    const { gateway, bytes } = await withObject({}, { replay });
    const url = await linkFor(gateway, { single_use: true });
    storeDown = true;
    expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 503, code: "replay_store_unavailable" });
    storeDown = false;
    expect(new Uint8Array(await (await gateway.fetch(new Request(url))).arrayBuffer())).toEqual(bytes);
    expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 410, code: "link_used" });
  });

  it("serve a Range on a link as a verified 206", async () => {
    const { gateway, bytes } = await withObject();
    const url = await linkFor(gateway);
    const response = await gateway.fetch(new Request(url, { headers: { range: `bytes=${CHUNK}-${CHUNK + 9}` } }));
    expect(response.status).toBe(206);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes.slice(CHUNK, CHUNK + 10));
  });

  it("refuse to serve a tampered blob behind a link", async () => {
    const { gateway, bytes } = await withObject();
    const url = await linkFor(gateway);
    const manifest = (await env.META.get("obj:share/model.bin", "json")) as { blob: string };
    const altered = bytes.slice();
    altered[3] = altered[3]! ^ 0xff;
    await env.OBJECTS.put(manifest.blob, altered);
    expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 502, code: "integrity_failure" });
  });
});

/**
 * The gateway imports the AWS presigner only when storage mode is used. In the test pool that first import
 * goes module by module through vite's runner (9.9 s measured on this machine, over 20 s under load), so it is
 * done once here, where a slow load is set-up time rather than a test timing out.
 */
const LOAD_PRESIGNER_TIMEOUT_MS = 180_000;

describe("POST /v1/presign checks", () => {
  beforeAll(async () => {
    await import("../../shared/storage/s3-presign.ts");
  }, LOAD_PRESIGNER_TIMEOUT_MS);

  it("answers 503 misconfigured without PRESIGN_SECRET, for presign and links alike", async () => {
    const gateway = await testGateway();
    expect(await problemOf(await presign(gateway, { key: "x" }))).toMatchObject({ status: 503, code: "misconfigured" });
    expect(await problemOf(await gateway.fetch(new Request("http://gateway.test/v1/dl/abc.def")))).toMatchObject({ status: 503, code: "misconfigured" });
  });

  it("needs both presign and read on the key", async () => {
    const { gateway } = await withObject();
    for (const actions of [["read"], ["presign"]]) {
      const user = await newEd25519Key();
      const keyid = `only-${actions[0]}`;
      await gateway.signed("POST", "/v1/keys", {
        body: JSON.stringify({ keyid, alg: "ed25519", public_key: user.publicKey, scopes: [{ prefix: "share/", actions }] }),
      });
      const as = { keyid, key: { alg: "ed25519" as const, privateKey: user.privateKey } };
      expect(await problemOf(await presign(gateway, { key: "share/model.bin" }, as))).toMatchObject({ status: 403, code: "forbidden" });
    }
  });

  it.each([[0], [3601], [1.5], ["60"]])("answers 400 bad_request for expires_in %s", async (expiresIn) => {
    const { gateway } = await withObject();
    expect(await problemOf(await presign(gateway, { key: "share/model.bin", expires_in: expiresIn }))).toMatchObject({ status: 400, code: "bad_request" });
  });

  it("answers 404 for a missing object and 400 invalid_key_name for a bad key", async () => {
    const { gateway } = await withObject();
    expect(await problemOf(await presign(gateway, { key: "share/none" }))).toMatchObject({ status: 404, code: "not_found" });
    expect(await problemOf(await presign(gateway, { key: "share/../x" }))).toMatchObject({ status: 400, code: "invalid_key_name" });
  });

  it("refuses storage mode by default with 403 presign_storage_disabled", async () => {
    const { gateway } = await withObject();
    expect(await problemOf(await presign(gateway, { key: "share/model.bin", mode: "storage" }))).toMatchObject({
      status: 403,
      code: "presign_storage_disabled",
    });
  });

  it("answers 503 misconfigured for storage mode enabled without S3 credentials", async () => {
    const { gateway } = await withObject({ PRESIGN_STORAGE: "on", S3_BUCKET: "verigate-objects" });
    expect(await problemOf(await presign(gateway, { key: "share/model.bin", mode: "storage" }))).toMatchObject({ status: 503, code: "misconfigured" });
  });

  it(
    "answers 400 bad_request to a single-use storage URL, which nothing could spend, even when storage mode is on",
    async () => {
      const { gateway } = await withObject(STORAGE_PRESIGN_ON);
      expect((await presign(gateway, { key: "share/model.bin", mode: "storage" })).status).toBe(200);
      expect(await problemOf(await presign(gateway, { key: "share/model.bin", mode: "storage", single_use: true }))).toMatchObject({
        status: 400,
        code: "bad_request",
      });
    },
    SDK_IMPORT_TIMEOUT_MS,
  );

  it(
    "signs a storage URL that expires as requested, with the integrity block, when enabled",
    async () => {
      const { gateway, bytes } = await withObject(STORAGE_PRESIGN_ON);
      const response = await presign(gateway, { key: "share/model.bin", mode: "storage", expires_in: 90 });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { url: string; mode: string; integrity: Record<string, unknown> };
      const manifest = (await env.META.get("obj:share/model.bin", "json")) as { blob: string };
      const url = new URL(body.url);
      expect(url.origin).toBe("https://account.r2.cloudflarestorage.com");
      expect(url.pathname).toBe(`/verigate-objects/${manifest.blob}`);
      expect(url.searchParams.get("X-Amz-Expires")).toBe("90");
      expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
      expect(body.url).not.toContain("wJalrXUtnFEMI");
      expect(body).toMatchObject({ mode: "storage", integrity: { sha256: toHex(await sha256(bytes)), size: bytes.length } });
    },
    SDK_IMPORT_TIMEOUT_MS,
  );
});
