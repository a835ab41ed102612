import { describe, expect, it } from "vitest";
import { newEd25519Key } from "../support/keys.ts";
import { ORIGIN, testGateway, type TestGateway } from "./support/gateway.ts";
import { problemDetailOf } from "../support/problem.ts";

const SECRET = "presign-secret-for-detail-tests-0123456789";
const json = { "content-type": "application/json" };

async function keyWith(gateway: TestGateway, keyid: string, scopes: unknown[]) {
  const pair = await newEd25519Key();
  const created = await gateway.signed("POST", "/v1/keys", {
    body: JSON.stringify({ keyid, alg: "ed25519", public_key: pair.publicKey, scopes }),
    headers: json,
  });
  expect(created.status).toBe(201);
  return { keyid, key: { alg: "ed25519" as const, privateKey: pair.privateKey } };
}

/** Issue #16, item 4: errors say what to fix (RFC 9457 `detail`) where that is safe, and nothing internal. */
describe("problem details", () => {
  it("forbidden names the action and the key asked for", async () => {
    const gateway = await testGateway();
    const reader = await keyWith(gateway, "reader", [{ prefix: "team-a/", actions: ["read"] }]);
    const put = await gateway.signed("PUT", "/v1/objects/team-a/x", { body: "x", headers: { "content-length": "1" }, as: reader });
    expect(await problemDetailOf(put)).toEqual({ status: 403, code: "forbidden", detail: "key reader may not write team-a/x" });
    const keys = await gateway.signed("GET", "/v1/keys", { as: reader });
    expect(await problemDetailOf(keys)).toEqual({ status: 403, code: "forbidden", detail: "key reader is not an admin key" });
  });

  it("bad_request names the field and its allowed range", async () => {
    const gateway = await testGateway({ PRESIGN_SECRET: SECRET, PRESIGN_MAX_SECONDS: "600" });
    const presign = await gateway.signed("POST", "/v1/presign", { body: JSON.stringify({ key: "a/b", expires_in: 9999 }), headers: json });
    expect(await problemDetailOf(presign)).toEqual({ status: 400, code: "bad_request", detail: "expires_in must be an integer from 1 to 600" });
    const list = await gateway.signed("GET", "/v1/objects?limit=ten");
    expect(await problemDetailOf(list)).toMatchObject({ status: 400, detail: "limit must be a whole number from 1 to 1000" });
  });

  it("already_exists says which kind of thing exists", async () => {
    const gateway = await testGateway();
    await keyWith(gateway, "twice", []);
    const pair = await newEd25519Key();
    const again = await gateway.signed("POST", "/v1/keys", {
      body: JSON.stringify({ keyid: "twice", alg: "ed25519", public_key: pair.publicKey, scopes: [] }),
      headers: json,
    });
    const problem = await problemDetailOf(again);
    expect(problem).toMatchObject({ status: 409, code: "already_exists" });
    expect(problem.detail).toMatch(/^a key record with keyid twice exists/);
  });

  it("too_large gives the limit of a JSON body", async () => {
    const gateway = await testGateway();
    const response = await gateway.signed("POST", "/v1/keys", { body: JSON.stringify({ pad: "x".repeat(70_000) }), headers: json });
    expect(await problemDetailOf(response)).toEqual({ status: 413, code: "too_large", detail: "a JSON body may hold at most 65536 bytes" });
  });

  it("invalid_key_name and range_not_satisfiable say what the rule is", async () => {
    const gateway = await testGateway();
    expect(await problemDetailOf(await gateway.signed("GET", "/v1/objects/a//b"))).toMatchObject({
      status: 400,
      code: "invalid_key_name",
      detail: expect.stringContaining("no segment of a key may be empty"),
    });
    const put = await gateway.signed("PUT", "/v1/objects/r/x", { body: "abc", headers: { "content-length": "3" } });
    expect(put.status).toBe(201);
    const range = await gateway.signed("GET", "/v1/objects/r/x", { headers: { range: "bytes=5-" } });
    expect(await problemDetailOf(range)).toEqual({ status: 416, code: "range_not_satisfiable", detail: "the range starts at byte 5; the object has 3 bytes" });
  });

  it("authentication failures keep one detail-free answer: key existence is not revealed", async () => {
    const gateway = await testGateway();
    const stranger = await newEd25519Key();
    const unknown = await gateway.signed("GET", "/v1/whoami", { as: { keyid: "nobody", key: { alg: "ed25519", privateKey: stranger.privateKey } } });
    const forged = await gateway.signed("GET", "/v1/whoami", { as: { keyid: gateway.admin.keyid, key: { alg: "ed25519", privateKey: stranger.privateKey } } });
    expect(await problemDetailOf(unknown)).toEqual({ status: 401, code: "signature_invalid", detail: undefined });
    expect(await problemDetailOf(forged)).toEqual({ status: 401, code: "signature_invalid", detail: undefined });
    expect(await problemDetailOf(await gateway.fetch(new Request(`${ORIGIN}/v1/whoami`)))).toMatchObject({ detail: undefined });
  });
});
