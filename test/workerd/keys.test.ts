import { describe, expect, it } from "vitest";
import { fromBase64 } from "../../shared/crypto/encoding.ts";
import { ed25519Thumbprint } from "../../shared/keys/jwk-thumbprint.ts";
import { newEd25519Key } from "../support/keys.ts";
import { testGateway, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { "content-type": "application/json" } });

async function createKey(gateway: TestGateway, input: Record<string, unknown>): Promise<Response> {
  return gateway.signed("POST", "/v1/keys", json(input));
}

describe("/v1/keys", () => {
  it("derives the default ed25519 keyid as the RFC 7638 thumbprint (RFC 8037 appendix A.3 vector)", async () => {
    expect(await ed25519Thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")).toBe("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  });

  it("creates an ed25519 key whose signatures then authenticate with its scopes", async () => {
    const gateway = await testGateway();
    const user = await newEd25519Key();
    const scopes = [{ prefix: "team-a/", actions: ["read", "list"] }];
    const created = await createKey(gateway, { alg: "ed25519", public_key: user.publicKey, scopes });
    expect(created.status).toBe(201);
    const record = (await created.json()) as Record<string, unknown>;
    expect(record).toMatchObject({ keyid: await ed25519Thumbprint(user.publicKey), alg: "ed25519", scopes, status: "active", admin: false });
    const whoami = await gateway.signed("GET", "/v1/whoami", { as: { keyid: String(record.keyid), key: { alg: "ed25519", privateKey: user.privateKey } } });
    expect(await whoami.json()).toEqual({ keyid: record.keyid, alg: "ed25519", scopes, admin: false });
  });

  it("returns an hmac secret at creation only, and the secret signs requests", async () => {
    const gateway = await testGateway();
    const created = await createKey(gateway, { keyid: "ci-runner", alg: "hmac-sha256", scopes: [{ prefix: "builds/", actions: ["write"] }] });
    const record = (await created.json()) as { secret: string };
    expect(fromBase64(record.secret)).toHaveLength(32);
    const fetched = await (await gateway.signed("GET", "/v1/keys/ci-runner")).json();
    expect(fetched).not.toHaveProperty("secret");
    const listed = JSON.stringify(await (await gateway.signed("GET", "/v1/keys")).json());
    expect(listed).not.toContain(record.secret);
    const whoami = await gateway.signed("GET", "/v1/whoami", { as: { keyid: "ci-runner", key: { alg: "hmac-sha256", secret: fromBase64(record.secret) } } });
    expect(whoami.status).toBe(200);
  });

  it("revokes a key so its next signature is refused as signature_invalid", async () => {
    const gateway = await testGateway();
    const user = await newEd25519Key();
    await createKey(gateway, { keyid: "laptop", alg: "ed25519", public_key: user.publicKey, scopes: [] });
    const as = { keyid: "laptop", key: { alg: "ed25519" as const, privateKey: user.privateKey } };
    expect((await gateway.signed("GET", "/v1/whoami", { as })).status).toBe(200);
    expect((await gateway.signed("DELETE", "/v1/keys/laptop")).status).toBe(204);
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami", { as }))).toMatchObject({ status: 401, code: "signature_invalid" });
    expect(await (await gateway.signed("GET", "/v1/keys/laptop")).json()).toMatchObject({ status: "revoked" });
  });

  it("refuses a key after its expires_at", async () => {
    const gateway = await testGateway();
    const user = await newEd25519Key();
    const expiresAt = new Date(gateway.now + 60_000).toISOString();
    await createKey(gateway, { keyid: "temp", alg: "ed25519", public_key: user.publicKey, scopes: [], expires_at: expiresAt });
    const as = { keyid: "temp", key: { alg: "ed25519" as const, privateKey: user.privateKey } };
    expect((await gateway.signed("GET", "/v1/whoami", { as })).status).toBe(200);
    gateway.now += 61_000;
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami", { as }))).toMatchObject({ status: 401, code: "signature_invalid" });
  });

  it("answers 403 forbidden to a non-admin key", async () => {
    const gateway = await testGateway();
    const user = await newEd25519Key();
    await createKey(gateway, { keyid: "reader", alg: "ed25519", public_key: user.publicKey, scopes: [{ prefix: "", actions: ["read"] }] });
    const as = { keyid: "reader", key: { alg: "ed25519" as const, privateKey: user.privateKey } };
    expect(await problemOf(await gateway.signed("GET", "/v1/keys", { as }))).toMatchObject({ status: 403, code: "forbidden" });
    expect(await problemOf(await gateway.signed("POST", "/v1/keys", { as, ...json({ alg: "hmac-sha256", scopes: [] }) }))).toMatchObject({
      status: 403,
      code: "forbidden",
    });
  });

  it.each([
    ["an unknown alg", { alg: "rsa", scopes: [] }],
    ["an unknown action", { alg: "hmac-sha256", scopes: [{ prefix: "", actions: ["sudo"] }] }],
    ["a short public key", { alg: "ed25519", public_key: "AAAA", scopes: [] }],
    ["a keyid with a slash", { keyid: "a/b", alg: "hmac-sha256", scopes: [] }],
    ["a past expires_at", { alg: "hmac-sha256", scopes: [], expires_at: "2001-01-01T00:00:00Z" }],
  ])("answers 400 bad_request for %s", async (_name, input) => {
    const gateway = await testGateway();
    expect(await problemOf(await createKey(gateway, input))).toMatchObject({ status: 400, code: "bad_request" });
  });

  it("answers 400 bad_request for a body that is not JSON", async () => {
    const gateway = await testGateway();
    expect(await problemOf(await gateway.signed("POST", "/v1/keys", { body: "{not json" }))).toMatchObject({ status: 400, code: "bad_request" });
  });

  it("answers 413 too_large for a JSON body above the limit", async () => {
    const gateway = await testGateway();
    const response = await gateway.signed("POST", "/v1/keys", json({ alg: "hmac-sha256", scopes: [], padding: "x".repeat(70_000) }));
    expect(await problemOf(response)).toMatchObject({ status: 413, code: "too_large" });
  });

  it("answers 409 already_exists for a keyid in use, bootstrap keys included", async () => {
    const gateway = await testGateway();
    expect(await problemOf(await createKey(gateway, { keyid: gateway.admin.keyid, alg: "hmac-sha256", scopes: [] }))).toMatchObject({
      status: 409,
      code: "already_exists",
    });
  });

  it("answers 404 not_found for an unknown keyid", async () => {
    const gateway = await testGateway();
    expect(await problemOf(await gateway.signed("GET", "/v1/keys/missing"))).toMatchObject({ status: 404, code: "not_found" });
    expect(await problemOf(await gateway.signed("DELETE", "/v1/keys/missing"))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("can revoke a bootstrap admin key through the API", async () => {
    const gateway = await testGateway();
    expect((await gateway.signed("DELETE", `/v1/keys/${gateway.admin.keyid}`)).status).toBe(204);
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami"))).toMatchObject({ status: 401, code: "signature_invalid" });
  });
});
