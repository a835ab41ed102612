import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemOf } from "./support/problem.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";
import { randomBytes } from "./support/bytes.ts";

interface ObjectList {
  objects: { key: string }[];
  cursor: string | null;
}

/**
 * Both builds judge a list cursor alike (issue #10, finding 10: a malformed cursor was 200 on Workers, 400 on AWS):
 * a cursor continues only the listing that issued it, anything else is 400 bad_request.
 */
describe.each(RUNTIMES)("on %s", (_runtime, start) => {
  let gateway: GatewayHarness;

  beforeAll(async () => {
    gateway = await start();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  async function list(query: Record<string, string>): Promise<Response> {
    return gateway.signedFetch("GET", `/v1/objects?${new URLSearchParams(query)}`);
  }

  async function listOk(query: Record<string, string>): Promise<ObjectList> {
    const response = await list(query);
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as ObjectList;
  }

  const run = crypto.randomUUID().slice(0, 8);
  const [prefix, other] = [`cursor-${run}/a/`, `cursor-${run}/b/`];

  beforeAll(async () => {
    for (const name of [`${prefix}1`, `${prefix}2`, `${prefix}3`, `${other}1`, `${other}2`]) {
      expect((await gateway.signedFetch("PUT", `/v1/objects/${name}`, { body: randomBytes(10) })).status).toBe(201);
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
