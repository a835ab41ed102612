import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsGateway } from "./support/aws-stores.ts";
import { problemOf } from "../support/problem.ts";
import { AWS_RUNTIMES, RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";
import { bytesOf, randomBytes, sha256Hex } from "./support/bytes.ts";

const CHUNK = 64 * 1024;
/** PROTOCOL section 7 asks for at least 32 bytes. */
const PRESIGN_SECRET = "presign-secret-for-the-wire-contract-0123456789";
/** Uses of one single-use link sent at once; every one but the first to claim it must be refused. */
const SINGLE_USE_RACE = 20;
/**
 * A link is refused once the gateway's whole-second clock is past its expiry (`now > exp`), that is from one second
 * after `expires_at`; the margin covers the gateway's clock reading a little behind the test's.
 */
const EXPIRY_GRANULARITY_MS = 1_000;
const CLOCK_MARGIN_MS = 100;

interface PresignAnswer {
  url: string;
  method: string;
  mode: string;
  expires_at: string;
  integrity: { sha256: string; size: number; chunk_size: number };
}

async function putObject(gateway: GatewayHarness, key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
  const response = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body });
  expect(response.status, await response.clone().text()).toBe(201);
}

function presign(gateway: GatewayHarness, request: Record<string, unknown>): Promise<Response> {
  return gateway.signedFetch("POST", "/v1/presign", {
    body: new TextEncoder().encode(JSON.stringify(request)),
    headers: { "content-type": "application/json" },
  });
}

async function presignOk(gateway: GatewayHarness, request: Record<string, unknown>): Promise<PresignAnswer> {
  const response = await presign(gateway, request);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as PresignAnswer;
}

/** Presigned downloads (PROTOCOL section 4) over real HTTP on each runtime: links are fetched with no signature. */
describe.each(RUNTIMES)("on %s", (_runtime, start) => {
  const key = "share/model.bin";
  const bytes = randomBytes(2.5 * CHUNK);
  let gateway: GatewayHarness;
  let shortLived: PresignAnswer;

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET, CHUNK_SIZE_BYTES: String(CHUNK) });
    await putObject(gateway, key, bytes);
    // Issued before the other cases run, so its expiry passes while they do rather than in a wait of its own.
    shortLived = await presignOk(gateway, { key, expires_in: 1 });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("serves a gateway link byte-identical to a plain fetch without a signature, as its integrity block says", async () => {
    const answer = await presignOk(gateway, { key, expires_in: 120 });
    expect(answer).toMatchObject({ method: "GET", mode: "gateway", integrity: { sha256: sha256Hex(bytes), size: bytes.length, chunk_size: CHUNK } });
    expect(answer.url.startsWith(`${gateway.origin}/v1/dl/`), answer.url).toBe(true);
    const download = await fetch(answer.url);
    expect(download.status).toBe(200);
    expect(download.headers.get("etag")).toBe(`"${sha256Hex(bytes)}"`);
    expect(await bytesOf(download)).toEqual(bytes);
  });

  it("answers 404 not_found to a link whose token was altered in its payload or its MAC", async () => {
    const { url } = await presignOk(gateway, { key });
    const slash = url.lastIndexOf("/");
    const [payload = "", mac = ""] = url.slice(slash + 1).split(".");
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    for (const altered of [`${flip(payload, 5)}.${mac}`, `${payload}.${flip(mac, 3)}`, `${payload}.${mac.slice(0, -2)}`]) {
      expect(await problemOf(await fetch(`${url.slice(0, slash)}/${altered}`)), altered).toEqual({ status: 404, code: "not_found" });
    }
  });

  it(`gives exactly one download to ${SINGLE_USE_RACE} concurrent GETs of a single-use link, and 410 link_used to the rest`, async () => {
    const { url } = await presignOk(gateway, { key, single_use: true });
    const responses = await Promise.all(Array.from({ length: SINGLE_USE_RACE }, () => fetch(url)));
    const served = responses.filter((response) => response.status === 200);
    expect(served).toHaveLength(1);
    expect(await bytesOf(served[0]!)).toEqual(bytes);
    const refused = await Promise.all(responses.filter((response) => response.status !== 200).map(problemOf));
    expect(new Set(refused.map((problem) => `${problem.status} ${problem.code}`))).toEqual(new Set(["410 link_used"]));
  });

  it("serves a Range on a link as 206 with exactly those bytes", async () => {
    const { url } = await presignOk(gateway, { key });
    const first = CHUNK - 5;
    const last = CHUNK + 9;
    const response = await fetch(url, { headers: { range: `bytes=${first}-${last}` } });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes ${first}-${last}/${bytes.length}`);
    expect(await bytesOf(response)).toEqual(bytes.subarray(first, last + 1));
  });

  it("answers 502 integrity_failure to a link whose blob was tampered with behind the gateway's back", async () => {
    const tamperedKey = "share/tampered.bin";
    const original = randomBytes(2 * CHUNK);
    await putObject(gateway, tamperedKey, original);
    const { url } = await presignOk(gateway, { key: tamperedKey });
    const manifest = (await gateway.kv.get(`obj:${tamperedKey}`, "json")) as { blob: string } | null;
    if (!manifest) throw new Error(`no manifest for ${tamperedKey}`);
    const altered = original.slice();
    altered[3] = altered[3]! ^ 0xff;
    await gateway.bucket.put(manifest.blob, altered);
    expect(await problemOf(await fetch(url))).toEqual({ status: 502, code: "integrity_failure" });
  });

  it("refuses storage mode by default with 403 presign_storage_disabled", async () => {
    expect(await problemOf(await presign(gateway, { key, mode: "storage" }))).toEqual({ status: 403, code: "presign_storage_disabled" });
  });

  it("answers 410 link_expired to a link issued for 1 s, once its expires_at has passed", async () => {
    const refusedFromMs = Date.parse(shortLived.expires_at) + EXPIRY_GRANULARITY_MS + CLOCK_MARGIN_MS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, refusedFromMs - Date.now())));
    expect(await problemOf(await fetch(shortLived.url))).toEqual({ status: 410, code: "link_expired" });
  });
});

// AWS only: with PRESIGN_STORAGE=on the gateway signs a URL of its own S3 (s3rver here) and the bytes never pass
// through it; on Lambda it signs with the execution role's credentials (deploy/LAMBDA.md, "Behaviour differences",
// 12). The Workers harness keeps its bytes in Miniflare's R2, which has no local S3 endpoint to download from; the
// Workers URL's signing is covered in test/workerd/presign.test.ts.
describe.each(AWS_RUNTIMES)("on %s: storage mode enabled for real (PRESIGN_STORAGE=on, s3rver)", (_runtime, start) => {
  const key = "share/large.bin";
  const bytes = randomBytes(3.5 * CHUNK);
  let gateway: AwsGateway;

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET, PRESIGN_STORAGE: "on", CHUNK_SIZE_BYTES: String(CHUNK) });
    await putObject(gateway, key, bytes);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("returns an S3 URL that downloads, without the gateway, the bytes its integrity block describes", async () => {
    const answer = await presignOk(gateway, { key, mode: "storage", expires_in: 60 });
    expect(answer).toMatchObject({ method: "GET", mode: "storage", integrity: { sha256: sha256Hex(bytes), size: bytes.length, chunk_size: CHUNK } });
    expect(new URL(answer.url).origin).toBe(gateway.s3Endpoint);
    expect(new URL(answer.url).searchParams.get("X-Amz-Expires")).toBe("60");
    const download = await fetch(answer.url);
    expect(download.status).toBe(200);
    const received = await bytesOf(download);
    expect(received.length).toBe(answer.integrity.size);
    expect(sha256Hex(received)).toBe(answer.integrity.sha256);
    expect(received).toEqual(bytes);
  });
});
