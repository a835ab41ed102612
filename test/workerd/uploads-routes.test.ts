import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/crypto/encoding.ts";
import { problemDetailOf, problemOf } from "../support/problem.ts";
import { bytes, sha256, uniqueKey } from "./support/objects-fixtures.ts";
import { signRequest } from "../../shared/signature/index.ts";
import { keyWithScopes, ORIGIN, type SignedInit, testGateway, type TestGateway } from "./support/gateway.ts";

const CHUNK = 64 * 1024;
const PART = 5 * 1024 * 1024;
/** Two whole parts and a short last one. */
const SIZE = 2 * PART + CHUNK + 17;
/** Small limits so one object needs several complete calls and a too-large one is cheap to declare. */
const VARS = {
  CHUNK_SIZE_BYTES: String(CHUNK),
  UPLOAD_PART_BYTES: String(PART),
  COMPLETE_SLICE_BYTES: String(4 * 1024 * 1024),
  MAX_UPLOAD_SESSION_BYTES: String(64 * PART),
};

type Signer = NonNullable<SignedInit["as"]>;

async function create(gateway: TestGateway, key: string, data: Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): Promise<Response> {
  const body = JSON.stringify({ key, size: data.length, sha256: toHex(await sha256(data)), content_type: "application/x-test" });
  return gateway.signed("POST", "/v1/uploads", { body, headers: { "content-type": "application/json", ...headers } });
}

async function created(
  gateway: TestGateway,
  key: string,
  data: Uint8Array<ArrayBuffer>,
): Promise<{ upload_id: string; part_size: number; part_count: number }> {
  const response = await create(gateway, key, data);
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json();
}

function putPart(gateway: TestGateway, id: string, part: number, body: Uint8Array, as?: Signer): Promise<Response> {
  return gateway.signed("PUT", `/v1/uploads/${id}/parts/${part}`, { body, headers: { "content-length": String(body.length) }, ...(as ? { as } : {}) });
}

function complete(gateway: TestGateway, id: string, as?: Signer): Promise<Response> {
  return gateway.signed("POST", `/v1/uploads/${id}/complete`, { body: "{}", headers: { "content-type": "application/json" }, ...(as ? { as } : {}) });
}

async function sendAll(gateway: TestGateway, id: string, data: Uint8Array<ArrayBuffer>, partSize: number, partCount: number): Promise<void> {
  for (let part = partCount; part >= 1; part--) {
    const response = await putPart(gateway, id, part, data.slice((part - 1) * partSize, part * partSize));
    expect(response.status, await response.clone().text()).toBe(200);
  }
}

describe("/v1/uploads over the app (R2, the session Durable Object)", () => {
  it("create, parts, status, complete (202 with Retry-After: 0, then 201): the wire shapes, and the object reads back", async () => {
    const gateway = await testGateway(VARS);
    const key = uniqueKey("wire.bin");
    const data = bytes(SIZE, 31);
    const response = await create(gateway, key, data);
    expect(response.status).toBe(201);
    const session = await response.json<Record<string, unknown>>();
    expect(response.headers.get("location")).toBe(`/v1/uploads/${session.upload_id}`);
    expect(session).toEqual({
      upload_id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      key,
      size: SIZE,
      sha256: toHex(await sha256(data)),
      chunk_size: CHUNK,
      part_size: PART,
      part_count: 3,
      expires_at: new Date(gateway.now + 86_400_000).toISOString(),
      direct_parts: false,
    });
    const id = session.upload_id as string;

    const part3 = data.slice(2 * PART);
    const stored = await putPart(gateway, id, 3, part3);
    expect(await stored.json()).toEqual({ part: 3, size: part3.length, sha256: toHex(await sha256(part3)) });
    const status = await gateway.signed("GET", `/v1/uploads/${id}`);
    expect(await status.json()).toEqual({
      ...session,
      state: "open",
      parts: [{ part: 3, size: part3.length, sha256: toHex(await sha256(part3)) }],
      verified_bytes: 0,
    });

    await sendAll(gateway, id, data, PART, 3);
    const first = await complete(gateway, id);
    expect(first.status).toBe(202);
    expect(first.headers.get("retry-after")).toBe("0");
    expect(await first.json()).toEqual({ state: "verifying", verified_bytes: 4 * 1024 * 1024, size: SIZE });
    let answer = first;
    for (let calls = 0; answer.status === 202 && calls < 10; calls++) answer = await complete(gateway, id);
    expect(answer.status).toBe(201);
    const body = await answer.json<Record<string, unknown>>();
    expect(body).toEqual({ key, version: expect.any(String), size: SIZE, sha256: session.sha256, chunk_size: CHUNK, etag: `"${session.sha256}"` });
    expect(await (await complete(gateway, id)).json()).toEqual(body);
    const done = await (await gateway.signed("GET", `/v1/uploads/${id}`)).json<Record<string, unknown>>();
    expect(done).toMatchObject({ state: "completed", verified_bytes: SIZE, version: body.version });

    const read = await gateway.signed("GET", `/v1/objects/${key}`);
    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toBe("application/x-test");
    expect(toHex(await sha256(new Uint8Array(await read.arrayBuffer())))).toBe(session.sha256);
  });

  it("answers 404 to another keyid and to a malformed id, on every route", async () => {
    const gateway = await testGateway(VARS);
    const key = uniqueKey("owned.bin");
    const data = bytes(SIZE, 32);
    const { upload_id: id } = await created(gateway, key, data);
    const other = await keyWithScopes(gateway, `other-${crypto.randomUUID().slice(0, 8)}`, [{ prefix: "", actions: ["read", "write", "list", "delete"] }]);
    const part = data.slice(0, PART);
    const answers = [
      await gateway.signed("GET", `/v1/uploads/${id}`, { as: other }),
      await putPart(gateway, id, 1, part, other),
      await complete(gateway, id, other),
      await gateway.signed("DELETE", `/v1/uploads/${id}`, { as: other }),
      await gateway.signed("GET", `/v1/uploads/${id.toLowerCase()}`),
      await gateway.signed("GET", "/v1/uploads/not-an-upload"),
    ];
    for (const answer of answers) expect(await problemOf(answer)).toEqual({ status: 404, code: "not_found" });
    expect((await gateway.signed("GET", `/v1/uploads/${id}`)).status).toBe(200);
  });

  it("refuses a declared size above MAX_UPLOAD_SESSION_BYTES with 413 naming the limit, before creating anything", async () => {
    const gateway = await testGateway(VARS);
    const body = JSON.stringify({ key: uniqueKey("huge.bin"), size: 64 * PART + 1, sha256: "0".repeat(64) });
    const refused = await gateway.signed("POST", "/v1/uploads", { body, headers: { "content-type": "application/json" } });
    expect(await problemDetailOf(refused)).toEqual({
      status: 413,
      code: "too_large",
      detail: `${64 * PART + 1} bytes declared; the limit for an upload session is ${64 * PART}`,
    });
  });

  it("refuses malformed requests: a bad body, a part of the wrong length or number, a part whose digest differs", async () => {
    const gateway = await testGateway(VARS);
    const key = uniqueKey("malformed.bin");
    const data = bytes(SIZE, 33);
    const bad = async (body: unknown) =>
      problemOf(await gateway.signed("POST", "/v1/uploads", { body: JSON.stringify(body), headers: { "content-type": "application/json" } }));
    expect(await bad({ key, size: 0, sha256: "0".repeat(64) })).toEqual({ status: 400, code: "bad_request" });
    expect(await bad({ key, size: 10, sha256: "A".repeat(64) })).toEqual({ status: 400, code: "bad_request" });
    expect(await bad({ key: "../x", size: 10, sha256: "0".repeat(64) })).toEqual({ status: 400, code: "invalid_key_name" });

    const { upload_id: id } = await created(gateway, key, data);
    expect(await problemOf(await putPart(gateway, id, 1, data.slice(0, PART - 1)))).toEqual({ status: 400, code: "bad_request" });
    expect(await problemOf(await putPart(gateway, id, 4, data.slice(0, 10)))).toEqual({ status: 400, code: "bad_request" });
    expect(await problemOf(await putPart(gateway, id, 0, data.slice(0, 10)))).toEqual({ status: 400, code: "bad_request" });
    const part3 = data.slice(2 * PART);
    const { headers } = await signRequest({
      method: "PUT",
      url: `${ORIGIN}/v1/uploads/${id}/parts/3`,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
      body: bytes(part3.length, 99),
      headers: { "content-length": String(part3.length) },
    });
    const lying = await gateway.fetch(
      new Request(`${ORIGIN}/v1/uploads/${id}/parts/3`, { method: "PUT", headers: { ...headers, "content-length": String(part3.length) }, body: part3 }),
    );
    expect(await problemOf(lying)).toEqual({ status: 400, code: "digest_mismatch" });
    const status = await (await gateway.signed("GET", `/v1/uploads/${id}`)).json<{ parts: unknown[] }>();
    expect(status.parts).toEqual([]);
    expect(await problemDetailOf(await complete(gateway, id))).toEqual({ status: 409, code: "upload_incomplete", detail: "parts not stored: 1, 2, 3" });
  });

  it("If-None-Match: * is refused at create when the key exists (409), and at commit when someone committed in between", async () => {
    const gateway = await testGateway(VARS);
    const key = uniqueKey("exists.bin");
    const data = bytes(SIZE, 34);
    const free = await create(gateway, key, data, { "if-none-match": "*" });
    expect(free.status).toBe(201);
    const { upload_id: id } = await free.json<{ upload_id: string }>();
    await sendAll(gateway, id, data, PART, 3);
    const small = bytes(100, 1);
    expect((await gateway.signed("PUT", `/v1/objects/${key}`, { body: small, headers: { "content-length": "100" } })).status).toBe(201);
    expect(await problemOf(await create(gateway, key, data, { "if-none-match": "*" }))).toEqual({ status: 409, code: "already_exists" });
    let answer = await complete(gateway, id);
    for (let calls = 0; answer.status === 202 && calls < 10; calls++) answer = await complete(gateway, id);
    expect(await problemOf(answer)).toEqual({ status: 409, code: "already_exists" });
    const read = await gateway.signed("GET", `/v1/objects/${key}`);
    expect(new Uint8Array(await read.arrayBuffer())).toEqual(small);
    expect(await (await gateway.signed("GET", `/v1/uploads/${id}`)).json()).toMatchObject({ state: "failed", failure: { code: "already_exists" } });
  });

  it("DELETE aborts (204) and the session is gone; parts cannot be presigned or registered on Workers without PRESIGN_STORAGE", async () => {
    const gateway = await testGateway(VARS);
    const data = bytes(SIZE, 35);
    const { upload_id: id } = await created(gateway, uniqueKey("abort.bin"), data);
    const json = { headers: { "content-type": "application/json" } };
    const presign = await gateway.signed("POST", `/v1/uploads/${id}/parts/1/presign`, { body: JSON.stringify({ sha256: "0".repeat(64) }), ...json });
    expect(await problemOf(presign)).toEqual({ status: 403, code: "presign_storage_disabled" });
    const register = await gateway.signed("POST", `/v1/uploads/${id}/parts/1`, { body: JSON.stringify({ sha256: "0".repeat(64), etag: '"x"' }), ...json });
    expect(await problemOf(register)).toEqual({ status: 403, code: "presign_storage_disabled" });

    await putPart(gateway, id, 1, data.slice(0, PART));
    const aborted = await gateway.signed("DELETE", `/v1/uploads/${id}`);
    expect(aborted.status).toBe(204);
    expect(await problemOf(await gateway.signed("GET", `/v1/uploads/${id}`))).toEqual({ status: 404, code: "not_found" });
    expect(await problemOf(await putPart(gateway, id, 2, data.slice(PART, 2 * PART)))).toEqual({ status: 404, code: "not_found" });
  });

  it("charges a part PUT in the in-flight budget like an object PUT; status is not charged", async () => {
    const gateway = await testGateway({ ...VARS, MAX_IN_FLIGHT_BYTES: String(2 * CHUNK) });
    const held = uniqueKey("held.bin");
    expect((await gateway.signed("PUT", `/v1/objects/${held}`, { body: bytes(8 * CHUNK, 1), headers: { "content-length": String(8 * CHUNK) } })).status).toBe(
      201,
    );
    const data = bytes(SIZE, 36);
    const { upload_id: id } = await created(gateway, uniqueKey("budget.bin"), data);
    const download = await gateway.signed("GET", `/v1/objects/${held}`);
    const shed = await putPart(gateway, id, 1, data.slice(0, PART));
    expect(await problemOf(shed)).toEqual({ status: 503, code: "overloaded" });
    expect(shed.headers.get("retry-after")).toBe("1");
    expect((await gateway.signed("GET", `/v1/uploads/${id}`)).status).toBe(200);
    await download.arrayBuffer();
    expect((await putPart(gateway, id, 1, data.slice(0, PART))).status).toBe(200);
  });
});
