import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes, sha256Hex } from "./support/bytes.ts";
import { itUnless, RUNTIMES, type Runtime } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

const CHUNK = 64 * 1024;
const PART = 5 * 1024 * 1024;
/** Two whole parts and a short last one; three complete calls at the slice below. */
const SIZE = 2 * PART + 3 * CHUNK + 5;
const SLICE = 4 * 1024 * 1024;
const VARS = { CHUNK_SIZE_BYTES: String(CHUNK), UPLOAD_PART_BYTES: String(PART), COMPLETE_SLICE_BYTES: String(SLICE) };
const JSON_HEADERS = { "content-type": "application/json" };

interface Session {
  upload_id: string;
  part_size: number;
  part_count: number;
  direct_parts: boolean;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/**
 * Upload sessions over real HTTP on every build. Parts go through the gateway where it takes them (Workers, the Node
 * server) and straight to S3 through presigned UploadPart URLs on the Lambda build (its 6 MB payload cannot carry a
 * 5 MiB part) and, in one case, on the Node server.
 */
describe.each(RUNTIMES)("upload sessions on %s", (runtime: Runtime, start) => {
  let gateway: GatewayHarness;
  const direct = runtime === "lambda";

  beforeAll(async () => {
    gateway = await start(VARS);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  async function create(key: string, data: Uint8Array): Promise<Session> {
    const response = await gateway.signedFetch("POST", "/v1/uploads", {
      body: json({ key, size: data.length, sha256: sha256Hex(data) }),
      headers: JSON_HEADERS,
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const session = (await response.json()) as Session;
    expect(session.direct_parts).toBe(runtime !== "workers");
    return session;
  }

  async function sendPart(session: Session, part: number, data: Uint8Array, viaStorage = direct): Promise<void> {
    const bytes = data.slice((part - 1) * session.part_size, part * session.part_size);
    const base = `/v1/uploads/${session.upload_id}/parts/${part}`;
    if (!viaStorage) {
      const response = await gateway.signedFetch("PUT", base, { body: bytes, headers: { "content-length": String(bytes.length) } });
      expect(response.status, await response.clone().text()).toBe(200);
      expect(await response.json()).toEqual({ part, size: bytes.length, sha256: sha256Hex(bytes) });
      return;
    }
    const presigned = await gateway.signedFetch("POST", `${base}/presign`, { body: json({ sha256: sha256Hex(bytes) }), headers: JSON_HEADERS });
    expect(presigned.status, await presigned.clone().text()).toBe(200);
    const { url, method, headers } = (await presigned.json()) as { url: string; method: string; headers: Record<string, string> };
    const stored = await fetch(url, { method, headers, body: bytes });
    expect(stored.status).toBe(200);
    await stored.arrayBuffer();
    const registered = await gateway.signedFetch("POST", base, {
      body: json({ sha256: sha256Hex(bytes), etag: stored.headers.get("etag") }),
      headers: JSON_HEADERS,
    });
    expect(await registered.json()).toEqual({ part, size: bytes.length, sha256: sha256Hex(bytes) });
  }

  function complete(session: Session): Promise<Response> {
    return gateway.signedFetch("POST", `/v1/uploads/${session.upload_id}/complete`, { body: json({}), headers: JSON_HEADERS });
  }

  /** Calls complete while it answers 202, as a client honouring it does; the final answer and how many 202s came first. */
  async function completeAll(session: Session): Promise<{ response: Response; pending: number }> {
    for (let pending = 0; pending < 100; pending++) {
      const response = await complete(session);
      if (response.status !== 202) return { response, pending };
      expect(["0", "1"]).toContain(response.headers.get("retry-after"));
      await response.arrayBuffer();
    }
    throw new Error("complete never finished");
  }

  async function blobKeys(): Promise<Set<string>> {
    return new Set((await gateway.bucket.list({ prefix: "blobs/" })).objects.map((object) => object.key));
  }

  it("parts out of order and one sent twice, complete across several calls (202 then 201): the object reads back byte-identical", async () => {
    const key = `sessions/${crypto.randomUUID()}/round-trip.bin`;
    const data = randomBytes(SIZE);
    const session = await create(key, data);
    expect(session).toMatchObject({ part_size: PART, part_count: 3 });
    await sendPart(session, 2, randomBytes(SIZE));
    for (const part of [3, 1, 2]) await sendPart(session, part, data);
    const { response, pending } = await completeAll(session);
    expect(pending).toBe(Math.ceil(SIZE / SLICE) - 1);
    expect(response.status, await response.clone().text()).toBe(201);
    const body = (await response.json()) as { version: string; sha256: string };
    expect(body).toMatchObject({ key, size: SIZE, sha256: sha256Hex(data), chunk_size: CHUNK });
    const read = await gateway.signedFetch("GET", `/v1/objects/${key}`);
    expect(read.headers.get("etag")).toBe(`"${sha256Hex(data)}"`);
    expect(sha256Hex(new Uint8Array(await read.arrayBuffer()))).toBe(sha256Hex(data));
  });

  itUnless(runtime, {
    workers: "direct parts need PRESIGN_STORAGE=on and R2's S3 API, which local workerd does not serve",
    lambda: "every case on the Lambda build sends its parts straight to S3 already",
  })("takes parts straight to S3 through presigned UploadPart URLs on the AWS build", async () => {
    const key = `sessions/${crypto.randomUUID()}/direct.bin`;
    const data = randomBytes(SIZE);
    const session = await create(key, data);
    for (const part of [2, 3, 1]) await sendPart(session, part, data, true);
    const { response } = await completeAll(session);
    expect(response.status, await response.clone().text()).toBe(201);
    const read = await gateway.signedFetch("GET", `/v1/objects/${key}`);
    expect(sha256Hex(new Uint8Array(await read.arrayBuffer()))).toBe(sha256Hex(data));
  });

  it("an assembled object altered in storage during complete is refused: nothing visible, the previous version reads back", async () => {
    const key = `sessions/${crypto.randomUUID()}/altered.bin`;
    const previous = randomBytes(1000);
    expect((await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body: previous, headers: { "content-length": "1000" } })).status).toBe(201);
    const data = randomBytes(SIZE);
    const session = await create(key, data);
    for (let part = 1; part <= session.part_count; part++) await sendPart(session, part, data);
    const before = await blobKeys();
    const first = await complete(session);
    expect(first.status).toBe(202);
    const [blob] = [...(await blobKeys())].filter((name) => !before.has(name));
    const altered = data.slice();
    altered[SIZE - 10] = altered[SIZE - 10]! ^ 0xff;
    await gateway.bucket.put(blob!, altered);

    const { response } = await completeAll(session);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("digest_mismatch");
    const read = await gateway.signedFetch("GET", `/v1/objects/${key}`);
    expect(sha256Hex(new Uint8Array(await read.arrayBuffer()))).toBe(sha256Hex(previous));
    expect(await blobKeys()).not.toContain(blob);
  });

  it("two concurrent completes: both end with the same 201, and the object is that version", async () => {
    const key = `sessions/${crypto.randomUUID()}/concurrent.bin`;
    const data = randomBytes(SIZE);
    const session = await create(key, data);
    for (let part = 1; part <= session.part_count; part++) await sendPart(session, part, data);
    const [a, b] = await Promise.all([completeAll(session), completeAll(session)]);
    expect([a.response.status, b.response.status]).toEqual([201, 201]);
    const [bodyA, bodyB] = [(await a.response.json()) as { version: string }, await b.response.json()];
    expect(bodyB).toEqual(bodyA);
    const read = await gateway.signedFetch("GET", `/v1/objects/${key}`);
    expect(sha256Hex(new Uint8Array(await read.arrayBuffer()))).toBe(sha256Hex(data));
  });

  it("abort removes the session and whatever was assembled", async () => {
    const data = randomBytes(SIZE);
    const session = await create(`sessions/${crypto.randomUUID()}/abort.bin`, data);
    for (let part = 1; part <= session.part_count; part++) await sendPart(session, part, data);
    const before = await blobKeys();
    expect((await complete(session)).status).toBe(202);
    const assembled = [...(await blobKeys())].filter((name) => !before.has(name));
    expect(assembled).toHaveLength(1);
    expect((await gateway.signedFetch("DELETE", `/v1/uploads/${session.upload_id}`)).status).toBe(204);
    expect((await gateway.signedFetch("GET", `/v1/uploads/${session.upload_id}`)).status).toBe(404);
    expect(await blobKeys()).not.toContain(assembled[0]);
  });
});
