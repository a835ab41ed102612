import { describe, expect, it } from "vitest";
import { testGateway, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";
import { bytes, CHUNK } from "./support/objects-fixtures.ts";

const SECRET = "presign-secret-for-tests-0123456789abcdef";

/** A gateway holding one fresh key and a link made to its version. */
async function linkedKey(size = 100): Promise<{ gateway: TestGateway; key: string; data: Uint8Array<ArrayBuffer>; link: string }> {
  const gateway = await testGateway({ PRESIGN_SECRET: SECRET, CHUNK_SIZE_BYTES: String(CHUNK) });
  const key = `gone/${crypto.randomUUID()}.bin`;
  const data = bytes(size, 1);
  await put(gateway, key, data);
  return { gateway, key, data, link: await linkTo(gateway, key) };
}

async function put(gateway: TestGateway, key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
  const response = await gateway.signed("PUT", `/v1/objects/${key}`, { body, headers: { "content-length": String(body.length) } });
  expect(response.status).toBe(201);
}

async function linkTo(gateway: TestGateway, key: string): Promise<string> {
  const response = await gateway.signed("POST", "/v1/presign", { body: JSON.stringify({ key }), headers: { "content-type": "application/json" } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { url: string }).url;
}

async function remove(gateway: TestGateway, key: string): Promise<void> {
  expect((await gateway.signed("DELETE", `/v1/objects/${key}`)).status).toBe(204);
}

/** Issue #10, finding 3: a link made before a DELETE kept serving the deleted bytes until the sweep. */
describe("gateway links after a DELETE", () => {
  it("answer 404 not_found to GET and HEAD at once, for the deleted version and the ones it superseded", async () => {
    const { gateway, key, link: older } = await linkedKey();
    gateway.now += 1000;
    await put(gateway, key, bytes(200, 2));
    const newer = await linkTo(gateway, key);
    gateway.now += 1000;
    await remove(gateway, key);
    for (const url of [older, newer]) {
      expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 404, code: "not_found" });
      expect((await gateway.fetch(new Request(url, { method: "HEAD" }))).status).toBe(404);
    }
  });

  it("stay refused after the key is uploaded again, while links to the new upload serve it", async () => {
    const { gateway, key, link: old } = await linkedKey();
    gateway.now += 1000;
    await remove(gateway, key);
    gateway.now += 1000;
    const again = bytes(300, 3);
    await put(gateway, key, again);
    expect((await gateway.fetch(new Request(old))).status).toBe(404);
    const fresh = await gateway.fetch(new Request(await linkTo(gateway, key)));
    expect(new Uint8Array(await fresh.arrayBuffer())).toEqual(again);
  });

  it("let a download that already started finish with every byte", async () => {
    const { gateway, key, data, link } = await linkedKey(4 * CHUNK);
    const response = await gateway.fetch(new Request(link));
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const parts: Uint8Array[] = [];
    const first = await reader.read();
    if (first.value) parts.push(first.value);
    await remove(gateway, key);
    for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
    expect(Buffer.concat(parts)).toEqual(Buffer.from(data));
  });
});
