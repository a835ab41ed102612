import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemOf } from "../support/problem.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";
import { bytesOf, randomBytes } from "./support/bytes.ts";

const MAX_KEY_BYTES = 512;

interface ObjectList {
  objects: { key: string }[];
  cursor: string | null;
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

/** Object keys at the contract's upper length, and the list route's prefixes and cursors, alike on every build. */
describe.each(RUNTIMES)("on %s", (_runtime, start) => {
  let gateway: GatewayHarness;

  beforeAll(async () => {
    gateway = await start();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const path = (key: string) => `/v1/objects/${encodeURIComponent(key).replaceAll("%2F", "/")}`;

  async function list(query: Record<string, string>): Promise<Response> {
    return gateway.signedFetch("GET", `/v1/objects?${new URLSearchParams(query)}`);
  }

  async function listOk(query: Record<string, string>): Promise<ObjectList> {
    const response = await list(query);
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as ObjectList;
  }

  /** Issue #10, finding 4: keys of 509 to 512 bytes and list prefixes past 512 bytes answered 500 on Workers. */
  describe("keys of the maximum length", () => {
    const run = crypto.randomUUID().slice(0, 8);
    /** Each is exactly 512 bytes of UTF-8 except the first, the shortest length that failed on Workers. */
    const keys: [string, string][] = [
      ["509 ASCII bytes", `long-${run}/`.padEnd(509, "a")],
      ["512 ASCII bytes", `long-${run}/`.padEnd(MAX_KEY_BYTES, "b")],
      ["512 bytes of two-byte characters", `long-${run}/` + "é".repeat((MAX_KEY_BYTES - 14) / 2)],
      ["512 bytes of three- and four-byte characters", `long-${run}/文` + "😀".repeat(123) + "文"],
    ];

    it.each(keys)("stores, serves, lists and deletes a key of %s", async (_label, key) => {
      expect(utf8Bytes(key)).toBe(_label.startsWith("509") ? 509 : MAX_KEY_BYTES);
      const body = randomBytes(100);
      const put = await gateway.signedFetch("PUT", path(key), { body });
      expect(put.status, await put.clone().text()).toBe(201);
      expect(((await put.json()) as { key: string }).key).toBe(key);
      const got = await gateway.signedFetch("GET", path(key));
      expect(got.status).toBe(200);
      expect(await bytesOf(got)).toEqual(body);
      expect((await listOk({ prefix: key })).objects.map((object) => object.key)).toEqual([key]);
      expect((await gateway.signedFetch("DELETE", path(key))).status).toBe(204);
      expect(await problemOf(await gateway.signedFetch("GET", path(key)))).toEqual({ status: 404, code: "not_found" });
    });

    // Both, in any order: on KV, keys sharing their first 444 bytes list by digest (docs/STORAGE.md).
    it("keeps two 512-byte keys that share their first 508 bytes apart, and lists both under their common prefix", async () => {
      const common = `twins-${run}/`.padEnd(508, "t");
      const [first, second] = [`${common}/one`, `${common}/two`];
      const [firstBody, secondBody] = [randomBytes(10), randomBytes(20)];
      expect((await gateway.signedFetch("PUT", path(first), { body: firstBody })).status).toBe(201);
      expect((await gateway.signedFetch("PUT", path(second), { body: secondBody })).status).toBe(201);
      expect(await bytesOf(await gateway.signedFetch("GET", path(first)))).toEqual(firstBody);
      expect(await bytesOf(await gateway.signedFetch("GET", path(second)))).toEqual(secondBody);
      expect((await listOk({ prefix: common })).objects.map((object) => object.key).sort()).toEqual([first, second]);
      expect((await listOk({ prefix: `twins-${run}/` })).objects.map((object) => object.key).sort()).toEqual([first, second]);
    });

    it.each([
      ["513 ASCII bytes", "p".repeat(MAX_KEY_BYTES + 1)],
      ["600 bytes of two-byte characters", "é".repeat(300)],
    ])("answers 200 with an empty list to a prefix of %s, longer than any key", async (_label, prefix) => {
      expect(await listOk({ prefix })).toEqual({ objects: [], cursor: null });
    });
  });

  /**
   * Both builds judge a list cursor alike (issue #10, finding 10: a malformed cursor was 200 on Workers, 400 on
   * AWS): a cursor continues only the listing that issued it, anything else is 400 bad_request.
   */
  describe("list cursors", () => {
    const run = crypto.randomUUID().slice(0, 8);
    const [prefix, other] = [`cursor-${run}/a/`, `cursor-${run}/b/`];

    beforeAll(async () => {
      for (const name of [`${prefix}1`, `${prefix}2`, `${prefix}3`, `${other}1`, `${other}2`]) {
        expect((await gateway.signedFetch("PUT", path(name), { body: randomBytes(10) })).status).toBe(201);
      }
    });

    it("pages through a listing with limit=1, each key exactly once (the control)", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: ObjectList = await listOk({ prefix, limit: "1", ...(cursor ? { cursor } : {}) });
        seen.push(...page.objects.map((object) => object.key));
        cursor = page.cursor;
      } while (cursor && seen.length < 10);
      expect(seen).toEqual([`${prefix}1`, `${prefix}2`, `${prefix}3`]);
    });

    it.each([
      ["not base64url at all", "not a cursor!"],
      ["base64url of no JSON", "bm90IGpzb24"],
      ["base64url JSON of another shape", Buffer.from(JSON.stringify({ hello: "world" })).toString("base64url")],
    ])("answers 400 bad_request to a cursor that is %s", async (_label, cursor) => {
      expect(await problemOf(await list({ prefix, cursor }))).toEqual({ status: 400, code: "bad_request" });
    });

    it("answers 400 bad_request to a cursor from the listing of another prefix", async () => {
      const page = await listOk({ prefix: other, limit: "1" });
      expect(page.cursor).not.toBeNull();
      expect(await problemOf(await list({ prefix, cursor: page.cursor ?? "" }))).toEqual({ status: 400, code: "bad_request" });
    });
  });
});
