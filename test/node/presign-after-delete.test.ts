import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemOf } from "../support/problem.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";
import { bytesOf, randomBytes } from "./support/bytes.ts";

/** PROTOCOL section 7 asks for at least 32 bytes. */
const PRESIGN_SECRET = "presign-secret-for-the-delete-suite-0123456789";

/**
 * A DELETE stops every gateway link to the key's versions at once (issue #10, finding 3: links served the deleted
 * bytes until the sweep removed the version record, forever under `wrangler dev`), while an overwrite keeps links
 * pinned to their version.
 */
describe.each(RUNTIMES)("on %s", (_runtime, start) => {
  let gateway: GatewayHarness;

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const freshKey = () => `gone/${crypto.randomUUID()}.bin`;

  async function putOk(key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
    const response = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body });
    expect(response.status, await response.clone().text()).toBe(201);
  }

  async function linkTo(key: string): Promise<string> {
    const body = new TextEncoder().encode(JSON.stringify({ key, expires_in: 600 }));
    const response = await gateway.signedFetch("POST", "/v1/presign", { body, headers: { "content-type": "application/json" } });
    expect(response.status, await response.clone().text()).toBe(200);
    return ((await response.json()) as { url: string }).url;
  }

  async function expectGone(url: string): Promise<void> {
    expect(await problemOf(await fetch(url))).toEqual({ status: 404, code: "not_found" });
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(404);
  }

  it("answers 404 not_found to GET and HEAD of a link made before the key was deleted", async () => {
    const key = freshKey();
    const bytes = randomBytes(100);
    await putOk(key, bytes);
    const url = await linkTo(key);
    expect(await bytesOf(await fetch(url))).toEqual(bytes);
    expect((await gateway.signedFetch("DELETE", `/v1/objects/${key}`)).status).toBe(204);
    await expectGone(url);
  });

  it("also stops links to versions the deleted one had superseded", async () => {
    const key = freshKey();
    await putOk(key, randomBytes(100));
    const older = await linkTo(key);
    await putOk(key, randomBytes(200));
    const newer = await linkTo(key);
    expect((await fetch(older)).status).toBe(200);
    expect((await gateway.signedFetch("DELETE", `/v1/objects/${key}`)).status).toBe(204);
    await expectGone(older);
    await expectGone(newer);
  });

  it("does not revive old links when the key is uploaded again, while links to the new upload serve it", async () => {
    const key = freshKey();
    await putOk(key, randomBytes(100));
    const old = await linkTo(key);
    expect((await gateway.signedFetch("DELETE", `/v1/objects/${key}`)).status).toBe(204);
    const again = randomBytes(300);
    await putOk(key, again);
    await expectGone(old);
    expect(await bytesOf(await fetch(await linkTo(key)))).toEqual(again);
  });

  it("keeps a link pinned to its version across an overwrite (the rule a delete does not change)", async () => {
    const key = freshKey();
    const first = randomBytes(100);
    await putOk(key, first);
    const url = await linkTo(key);
    await putOk(key, randomBytes(200));
    expect(await bytesOf(await fetch(url))).toEqual(first);
  });
});
