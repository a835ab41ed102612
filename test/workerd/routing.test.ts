import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromBase64 } from "../../shared/crypto/encoding.ts";
import { MemoryRateLimiter } from "../../shared/ratelimit/memory.ts";
import { newEd25519Key } from "../support/keys.ts";
import { ORIGIN, testGateway, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

const SECRET = "presign-secret-for-routing-tests-0123456789";

async function putObject(gateway: TestGateway, key: string, body = "bytes"): Promise<void> {
  const response = await gateway.signed("PUT", `/v1/objects/${key}`, { body, headers: { "content-length": String(body.length) } });
  expect(response.status, await response.clone().text()).toBe(201);
}

async function linkFor(gateway: TestGateway, key: string, options: Record<string, unknown> = {}): Promise<string> {
  const response = await gateway.signed("POST", "/v1/presign", { body: JSON.stringify({ key, ...options }), headers: { "content-type": "application/json" } });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { url: string }).url;
}

/** Regression (issue #10, finding 5): routes matched the decoded path while the key was cut from the raw one. */
describe("route matching and key extraction read the same raw path", () => {
  it("answers 404 to a signed PUT /v1/%6Fbjects/... and stores nothing under a shifted key", async () => {
    const gateway = await testGateway();
    const put = await gateway.signed("PUT", "/v1/%6Fbjects/team/x", { body: "shifted", headers: { "content-length": "7" } });
    expect(await problemOf(put)).toMatchObject({ status: 404, code: "not_found" });
    for (const key of ["s/team/x", "team/x"]) expect((await gateway.signed("GET", `/v1/objects/${key}`)).status).toBe(404);
  });

  it("still takes a percent-encoded key under the literal route", async () => {
    const gateway = await testGateway();
    await putObject(gateway, "team/a%20b");
    const listed = (await (await gateway.signed("GET", "/v1/objects?prefix=team/")).json()) as { objects: { key: string }[] };
    expect(listed.objects.map((object) => object.key)).toEqual(["team/a b"]);
  });
});

/**
 * Regression (issue #10, finding 11): the signature check, the guard and the client limiter skipped routes by
 * testing the path string (`startsWith("/v1/dl/")`). Now route order decides, so only the link route itself
 * goes unsigned.
 */
describe("which checks apply is decided by route order, not by how a path is spelled", () => {
  it.each(["/v1/dl/a/b", "/v1/dl/", "/v1/dlx"])("an unsigned %s is not a link: 401 signature_missing", async (path) => {
    const gateway = await testGateway({ PRESIGN_SECRET: SECRET });
    expect(await problemOf(await gateway.fetch(new Request(ORIGIN + path)))).toMatchObject({ status: 401, code: "signature_missing" });
  });

  it("a misconfigured gateway refuses links too, while /healthz says why", async () => {
    const gateway = await testGateway({ PRESIGN_SECRET: "short" });
    expect(await problemOf(await gateway.fetch(new Request(`${ORIGIN}/v1/dl/x.y`)))).toMatchObject({ status: 503, code: "misconfigured" });
    const health = await gateway.fetch(new Request(`${ORIGIN}/healthz`));
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ problems: ["presign_secret_too_short"] });
  });

  it("the client limiter counts link downloads and spares /healthz", async () => {
    const gateway = await testGateway(
      { PRESIGN_SECRET: SECRET },
      { limits: { perClient: new MemoryRateLimiter(1, 60), perKey: new MemoryRateLimiter(1000, 60) } },
    );
    const from = (path: string) => gateway.fetch(new Request(ORIGIN + path, { headers: { "x-test-client": "198.51.100.7" } }));
    expect((await from("/v1/dl/x.y")).status).toBe(404);
    expect(await problemOf(await from("/v1/dl/x.y"))).toMatchObject({ status: 429, code: "rate_limited" });
    expect((await from("/healthz")).status).toBe(200);
  });
});

/** Regression (issue #10, finding 12): a link token is a bearer secret, and request_failed logged the path whole. */
describe("log lines never hold a link token", () => {
  it("names a failing link by a hash prefix of its token", async () => {
    const gateway = await testGateway({ PRESIGN_SECRET: SECRET });
    await putObject(gateway, "share/file.bin");
    const url = await linkFor(gateway, "share/file.bin", { expires_in: 60 });
    const token = url.slice(url.lastIndexOf("/") + 1);
    gateway.now += 120_000;
    expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 410, code: "link_expired" });
    const [failure] = gateway.log.events("request_failed");
    expect(failure?.fields.path).toMatch(/^\/v1\/dl\/sha256:[0-9a-f]{16}$/);
    expect(JSON.stringify(gateway.log.entries)).not.toContain(token);
    expect(JSON.stringify(gateway.log.entries)).not.toContain(token.slice(token.indexOf(".") + 1));
  });
});

/**
 * Regression (issue #10, finding 6): single-use links were claimed as the signature nonce of a key named
 * `verigate-link`, so such a key could spend anyone's link by signing with the nonce its token shows.
 */
describe("single-use link claims are apart from signature claims", () => {
  it("a key named verigate-link signing with a link's nonce does not spend the link", async () => {
    const gateway = await testGateway({ PRESIGN_SECRET: SECRET });
    await putObject(gateway, "share/once.bin");
    const url = await linkFor(gateway, "share/once.bin", { single_use: true });
    const token = url.slice(url.lastIndexOf("/") + 1);
    const { nonce } = JSON.parse(new TextDecoder().decode(fromBase64(token.slice(0, token.indexOf("."))))) as { nonce: string };
    // A record written before names were reserved: the API refuses the name now (below), the store may still hold one.
    const pair = await newEd25519Key();
    const record = {
      keyid: "verigate-link",
      alg: "ed25519",
      public_key: pair.publicKey,
      scopes: [],
      admin: false,
      status: "active",
      created_at: new Date(gateway.now).toISOString(),
    };
    await env.META.put("key:verigate-link", JSON.stringify(record));
    const signed = await gateway.signed("GET", "/v1/whoami", { as: { keyid: "verigate-link", key: { alg: "ed25519", privateKey: pair.privateKey } }, nonce });
    expect(signed.status).toBe(200);
    expect((await gateway.fetch(new Request(url))).status).toBe(200);
    expect(await problemOf(await gateway.fetch(new Request(url)))).toMatchObject({ status: 410, code: "link_used" });
  });

  it.each(["verigate-link", "verigate", "VeriGate.internal", "unauthenticated"])("POST /v1/keys refuses the reserved keyid %s", async (keyid) => {
    const gateway = await testGateway();
    const pair = await newEd25519Key();
    const body = JSON.stringify({ keyid, alg: "ed25519", public_key: pair.publicKey, scopes: [] });
    expect(await problemOf(await gateway.signed("POST", "/v1/keys", { body, headers: { "content-type": "application/json" } }))).toMatchObject({
      status: 400,
      code: "bad_request",
    });
  });

  it("ADMIN_KEYS naming a reserved or malformed keyid is a configuration problem", async () => {
    const pair = await newEd25519Key();
    for (const keyid of ["verigate-link", "has space"]) {
      const gateway = await testGateway({ ADMIN_KEYS: `${keyid}=${pair.publicKey}` });
      const health = await gateway.fetch(new Request(`${ORIGIN}/healthz`));
      expect(await health.json()).toMatchObject({ status: "misconfigured", problems: ["invalid_admin_keys"] });
    }
  });
});
