import { beforeAll, describe, expect, it } from "vitest";
import type { Action } from "../../shared/keys/index.ts";
import { keyWithScopes, testGateway, type SignedInit, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

const SECRET = "presign-secret-for-tests-0123456789abcdef";

type Route = "GET" | "HEAD" | "PUT" | "DELETE" | "list" | "presign";
type Signer = NonNullable<SignedInit["as"]>;

/** What each route answers when allowed: a route is allowed exactly when the key's scope grants what it needs. */
const ALLOWED_STATUS: Record<Route, number> = { GET: 200, HEAD: 200, PUT: 201, DELETE: 204, list: 200, presign: 200 };

/** `key` must exist; DELETE is sent last by the callers, as it removes it. */
function send(gateway: TestGateway, route: Route, key: string, as: Signer): Promise<Response> {
  switch (route) {
    case "list":
      return gateway.signed("GET", `/v1/objects?prefix=${encodeURIComponent(key)}`, { as });
    case "presign":
      return gateway.signed("POST", "/v1/presign", { as, body: JSON.stringify({ key }), headers: { "content-type": "application/json" } });
    case "PUT":
      return gateway.signed("PUT", `/v1/objects/${key}`, { as, body: "new", headers: { "content-length": "3" } });
    default:
      return gateway.signed(route, `/v1/objects/${key}`, { as });
  }
}

const ROUTES: readonly Route[] = ["GET", "HEAD", "list", "presign", "PUT", "DELETE"];

async function putAsAdmin(gateway: TestGateway, key: string): Promise<void> {
  const put = await gateway.signed("PUT", `/v1/objects/${key}`, { body: "old", headers: { "content-length": "3" } });
  expect(put.status).toBe(201);
}

describe("authorization: each route needs its own action inside the key's scope", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await testGateway({ PRESIGN_SECRET: SECRET });
  });

  it.each<[actions: Action[], allowed: Route[]]>([
    [["read"], ["GET", "HEAD"]],
    [["write"], ["PUT"]],
    [["delete"], ["DELETE"]],
    [["list"], ["list"]],
    [["presign"], []],
    [
      ["presign", "read"],
      ["GET", "HEAD", "presign"],
    ],
  ])("a key with only %j inside its prefix is allowed exactly %j; 403 forbidden elsewhere", async (actions, allowed) => {
    const prefix = `matrix-${actions.join("-")}/`;
    const key = `${prefix}object`;
    await putAsAdmin(gateway, key);
    const as = await keyWithScopes(gateway, `only-${actions.join("-")}`, [{ prefix, actions }]);
    for (const route of ROUTES) {
      const response = await send(gateway, route, key, as);
      if (allowed.includes(route)) expect(response.status, route).toBe(ALLOWED_STATUS[route]);
      else if (route === "HEAD") expect(response.status, route).toBe(403);
      else expect(await problemOf(response), route).toMatchObject({ status: 403, code: "forbidden" });
    }
  });
});

describe("authorization: a scope is a prefix of the key, not a substring of it", () => {
  it("refuses a key scoped to a/ every action on x/a/secret, while allowing them on a/secret", async () => {
    const gateway = await testGateway({ PRESIGN_SECRET: SECRET });
    const as = await keyWithScopes(gateway, "a-scoped", [{ prefix: "a/", actions: ["read", "write", "delete", "list", "presign"] }]);
    for (const key of ["x/a/secret", "a/secret"]) await putAsAdmin(gateway, key);
    for (const route of ROUTES) {
      expect((await send(gateway, route, "x/a/secret", as)).status, `${route} x/a/secret`).toBe(403);
      expect((await send(gateway, route, "a/secret", as)).status, `${route} a/secret`).toBe(ALLOWED_STATUS[route]);
    }
    expect((await gateway.signed("GET", "/v1/objects/x/a/secret")).status).toBe(200);
  });
});

describe("authorization: each of a key's scopes grants on its own", () => {
  it("lets a key read under one scope and write under another, and neither across", async () => {
    const gateway = await testGateway();
    const as = await keyWithScopes(gateway, "two-scopes", [
      { prefix: "r/", actions: ["read"] },
      { prefix: "w/", actions: ["write"] },
    ]);
    await putAsAdmin(gateway, "r/object");
    expect((await send(gateway, "GET", "r/object", as)).status).toBe(200);
    expect((await send(gateway, "PUT", "w/object", as)).status).toBe(201);
    expect((await send(gateway, "PUT", "r/object", as)).status).toBe(403);
    expect((await send(gateway, "GET", "w/object", as)).status).toBe(403);
  });
});
