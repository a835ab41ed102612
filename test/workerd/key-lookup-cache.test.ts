import { describe, expect, it } from "vitest";
import { KEY_CACHE_TTL_MS } from "../../shared/keys/lookup-cache.ts";
import { newEd25519Key } from "../support/keys.ts";
import { testGateway, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

/**
 * Two gateways on the same KV, R2 and Durable Objects but each with its own metadata store object: two processes
 * (Lambda execution environments, Workers isolates) as far as the key lookup cache can tell. Time moves only on
 * the injected clocks.
 */
async function twoGateways(): Promise<{ a: TestGateway; b: TestGateway }> {
  const a = await testGateway();
  const b = await testGateway();
  return { a, b };
}

async function createKey(gateway: TestGateway, keyid: string): Promise<{ keyid: string; key: { alg: "ed25519"; privateKey: CryptoKey } }> {
  const pair = await newEd25519Key();
  const created = await gateway.signed("POST", "/v1/keys", { body: JSON.stringify({ keyid, alg: "ed25519", public_key: pair.publicKey, scopes: [] }) });
  expect(created.status).toBe(201);
  return { keyid, key: { alg: "ed25519", privateKey: pair.privateKey } };
}

const whoamiStatus = async (gateway: TestGateway, as: { keyid: string; key: { alg: "ed25519"; privateKey: CryptoKey } }) =>
  (await gateway.signed("GET", "/v1/whoami", { as })).status;

describe("key lookup cache", () => {
  it("a revoked key stops working at once on the revoking gateway and within KEY_CACHE_TTL_MS on another", async () => {
    const { a, b } = await twoGateways();
    const key = await createKey(a, `revoked-${crypto.randomUUID().slice(0, 8)}`);
    expect(await whoamiStatus(b, key)).toBe(200);

    expect((await a.signed("DELETE", `/v1/keys/${key.keyid}`)).status).toBe(204);
    expect(await problemOf(await a.signed("GET", "/v1/whoami", { as: key }))).toMatchObject({ status: 401, code: "signature_invalid" });
    // The documented staleness: b read the record before the revocation and may use it for up to the bound.
    b.now += KEY_CACHE_TTL_MS - 1;
    expect(await whoamiStatus(b, key)).toBe(200);
    b.now += 1;
    expect(await problemOf(await b.signed("GET", "/v1/whoami", { as: key }))).toMatchObject({ status: 401, code: "signature_invalid" });
  });

  it("a key created after an unknown-keyid answer works at once on the creating gateway and within the bound on another", async () => {
    const { a, b } = await twoGateways();
    const keyid = `late-${crypto.randomUUID().slice(0, 8)}`;
    const pair = await newEd25519Key();
    const as = { keyid, key: { alg: "ed25519" as const, privateKey: pair.privateKey } };
    expect(await whoamiStatus(a, as)).toBe(401);
    expect(await whoamiStatus(b, as)).toBe(401);

    const body = JSON.stringify({ keyid, alg: "ed25519", public_key: pair.publicKey, scopes: [] });
    expect((await a.signed("POST", "/v1/keys", { body })).status).toBe(201);
    expect(await whoamiStatus(a, as)).toBe(200);
    expect(await whoamiStatus(b, as)).toBe(401);
    b.now += KEY_CACHE_TTL_MS;
    expect(await whoamiStatus(b, as)).toBe(200);
  });

  it("a cached record still has every request's nonce claimed: a replay is refused", async () => {
    const { a } = await twoGateways();
    const key = await createKey(a, `replayed-${crypto.randomUUID().slice(0, 8)}`);
    expect(await whoamiStatus(a, key)).toBe(200);
    const nonce = crypto.randomUUID();
    expect((await a.signed("GET", "/v1/whoami", { as: key, nonce })).status).toBe(200);
    expect(await problemOf(await a.signed("GET", "/v1/whoami", { as: key, nonce }))).toMatchObject({
      status: 401,
      code: "replayed_request",
    });
  });

  it("an expires_at passing is seen at once, whatever the cache holds", async () => {
    const { a } = await twoGateways();
    const pair = await newEd25519Key();
    const keyid = `expiring-${crypto.randomUUID().slice(0, 8)}`;
    const expiresAt = new Date(a.now + 1_000).toISOString();
    const body = JSON.stringify({ keyid, alg: "ed25519", public_key: pair.publicKey, scopes: [], expires_at: expiresAt });
    expect((await a.signed("POST", "/v1/keys", { body })).status).toBe(201);
    const as = { keyid, key: { alg: "ed25519" as const, privateKey: pair.privateKey } };
    expect(await whoamiStatus(a, as)).toBe(200);
    a.now += 1_000;
    expect(await whoamiStatus(a, as)).toBe(401);
  });
});
