import { createHash, randomFillSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsGateway, type GatewayHarness } from "./support/aws-gateway.ts";
import { startGateway, type WireResponse } from "./support/gateway-server.ts";

/** The smallest chunk the gateway accepts, so multi-chunk objects stay small. */
const CHUNK = 64 * 1024;

interface StoredManifest {
  key: string;
  version: string;
  size: number;
  blob: string;
}

/**
 * The same HTTP contract cases against the bundled worker in workerd and against the Node server on the AWS
 * backends (the Lambda code path over real HTTP), through one harness interface.
 */
const RUNTIMES: [label: string, runtime: string, start: (vars: Record<string, string>) => Promise<GatewayHarness>][] = [
  ["Workers (workerd, R2, KV, Durable Object)", "workers", startGateway],
  ["Node (@hono/node-server, S3, DynamoDB)", "node", startAwsGateway],
];

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  return randomFillSync(new Uint8Array(size));
}

function flipByte(original: Uint8Array<ArrayBuffer>, at: number): Uint8Array<ArrayBuffer> {
  const altered = original.slice();
  altered[at] = altered[at]! ^ 0xff;
  return altered;
}

describe.each(RUNTIMES)("%s", (_label, runtime, start) => {
  let gateway: GatewayHarness;
  let keyCounter = 0;

  beforeAll(async () => {
    gateway = await start({ CHUNK_SIZE_BYTES: String(CHUNK) });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  async function upload(bytes: Uint8Array<ArrayBuffer>): Promise<StoredManifest> {
    const key = `parity/${keyCounter++}.bin`;
    const response = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body: bytes });
    expect(response.status, await response.clone().text()).toBe(201);
    const manifest = (await gateway.kv.get(`obj:${key}`, "json")) as StoredManifest | null;
    if (!manifest) throw new Error(`no manifest for ${key}`);
    return manifest;
  }

  /** Every byte received is the original's at that position, and the body stops before `beforeByte`. */
  function expectCutShort(response: WireResponse | null, original: Uint8Array, beforeByte: number): void {
    expect(response?.status).toBe(200);
    expect(response?.headers["content-length"]).toBe(String(original.length));
    expect(response?.complete, "the body should end short of its Content-Length").toBe(false);
    const body = response?.body ?? new Uint8Array(0);
    expect(body.length).toBeLessThanOrEqual(beforeByte);
    expect(Buffer.compare(body, original.subarray(0, body.length)), "a byte differs from the object's").toBe(0);
  }

  it("reports its runtime in /healthz", async () => {
    const response = await fetch(`${gateway.origin}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", runtime });
  });

  it("round-trips an object: PUT, then a whole verified GET", async () => {
    const original = randomBytes(2 * CHUNK + 5);
    const manifest = await upload(original);
    expect(manifest.size).toBe(original.length);
    const response = await gateway.wireGet(`/v1/objects/${manifest.key}`);
    expect(response?.status).toBe(200);
    expect(response?.complete).toBe(true);
    expect(response?.headers.etag).toBe(`"${createHash("sha256").update(original).digest("hex")}"`);
    expect(Buffer.compare(response?.body ?? new Uint8Array(0), original)).toBe(0);
  });

  it("deletes with a signed DELETE that fetch sends without a body or Content-Length", async () => {
    const manifest = await upload(randomBytes(10));
    const response = await gateway.signedFetch("DELETE", `/v1/objects/${manifest.key}`);
    expect(response.status, await response.clone().text()).toBe(204);
    expect((await gateway.wireGet(`/v1/objects/${manifest.key}`))?.status).toBe(404);
  });

  it("rejects a replayed signature with 401 replayed_request", async () => {
    const headers = await gateway.signedHeaders("GET", "/v1/whoami");
    expect((await fetch(`${gateway.origin}/v1/whoami`, { headers })).status).toBe(200);
    const replay = await fetch(`${gateway.origin}/v1/whoami`, { headers });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: "replayed_request" });
  });

  it("answers 502 integrity_failure when the first chunk was tampered with", async () => {
    const original = randomBytes(3 * CHUNK);
    const manifest = await upload(original);
    await gateway.bucket.put(manifest.blob, flipByte(original, 10));
    const response = await gateway.wireGet(`/v1/objects/${manifest.key}`);
    expect(response?.status).toBe(502);
    expect(JSON.parse(Buffer.from(response?.body ?? []).toString())).toMatchObject({ code: "integrity_failure" });
  });

  /** Cuts a tampered download and checks what reached the client and what was logged. */
  async function expectTamperedChunkCut(tamperedChunk: number): Promise<void> {
    const original = randomBytes(6 * CHUNK);
    const manifest = await upload(original);
    const logsBefore = gateway.logs().length;
    await gateway.bucket.put(manifest.blob, flipByte(original, tamperedChunk * CHUNK + 3));
    expectCutShort(await gateway.wireGet(`/v1/objects/${manifest.key}`), original, tamperedChunk * CHUNK);
    const event = await gateway.waitForEvent("integrity_failure", (line) => line.key === manifest.key, logsBefore);
    expect(event).toMatchObject({ chunk: tamperedChunk, reason: "digest_mismatch" });
  }

  it("ends the body short, after only verified bytes, when a middle chunk was tampered with", async () => {
    await expectTamperedChunkCut(3);
  });

  // KNOWN BUG on workerd (pinned in objects-tamper.test.ts): a mismatch in the second chunk drops the connection
  // before the status line. On Node the status line and the verified first chunk go out first; this case also
  // guards the regression node-server.ts's `cutOnBodyFailure` fixed (a 500 carrying the error text).
  const secondChunkCase = runtime === "workers" ? it.fails : it;
  secondChunkCase("ends the body short, after the verified first chunk, when the second chunk was tampered with", async () => {
    await expectTamperedChunkCut(1);
  });

  it("ends a range short when it runs into a tampered chunk", async () => {
    const original = randomBytes(4 * CHUNK);
    const manifest = await upload(original);
    await gateway.bucket.put(manifest.blob, flipByte(original, 3 * CHUNK + 1));
    const first = CHUNK + 100;
    const response = await gateway.wireGet(`/v1/objects/${manifest.key}`, { range: `bytes=${first}-${4 * CHUNK - 1}` });
    expect(response?.status).toBe(206);
    expect(response?.complete).toBe(false);
    const body = response?.body ?? new Uint8Array(0);
    expect(body.length).toBeLessThanOrEqual(3 * CHUNK - first);
    expect(Buffer.compare(body, original.subarray(first, first + body.length))).toBe(0);
  });
});
