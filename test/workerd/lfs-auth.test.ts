import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../functions/context.ts";
import { lfsBasicAuth, requireLfsWrite } from "../../functions/middleware/lfs-auth.ts";
import { onProblem } from "../../functions/middleware/problems.ts";
import { sha256, toBase64 } from "../../shared/crypto/encoding.ts";
import { parseConfig } from "../../shared/config/index.ts";
import type { Scope } from "../../shared/keys/index.ts";
import { DurableObjectSwapAuthority } from "../../shared/metadata/durable-object.ts";
import { KvMetadataStore } from "../../shared/metadata/kv-binding.ts";
import { keyWithScopes, testGateway, type TestGateway } from "./support/gateway.ts";

/**
 * `lfsBasicAuth` and `requireLfsWrite` in front of two probe routes of a small app that shares the gateway's real KV
 * metadata (tokens and keys are minted through the gateway's own routes). Every refusal must be the same 401
 * `unauthorized` with no detail: a client learns nothing about which tokens or repositories exist.
 */
function lfsProbe(gateway: TestGateway): (path: string, authorization?: string, method?: string) => Promise<Response> {
  const config = parseConfig({ ADMIN_KEYS: `${gateway.admin.keyid}=${gateway.admin.publicKey}` }, "workers");
  const metadata = new KvMetadataStore(env.META, new DurableObjectSwapAuthority(env.COMMITS));
  const app = new Hono<AppEnv>();
  app.use(async function inject(c, next) {
    c.set("config", config);
    c.set("metadata", metadata);
    c.set("clock", () => gateway.now);
    c.set("log", gateway.log);
    c.set("requestId", "probe");
    await next();
  });
  app.get("/lfs/:repo/probe", lfsBasicAuth(), (c) => c.json(c.var.lfs ?? null));
  app.post("/lfs/:repo/write", lfsBasicAuth(), (c) => c.json(requireLfsWrite(c)));
  app.onError(onProblem);
  return (path, authorization, method = "GET") =>
    Promise.resolve(app.fetch(new Request(`http://gateway.test${path}`, { method, headers: authorization === undefined ? {} : { authorization } })));
}

const basic = (password: string, user = "git") => `Basic ${btoa(`${user}:${password}`)}`;

async function mint(gateway: TestGateway, body: Record<string, unknown>, as?: { keyid: string; key: TestGateway["admin"]["key"] }): Promise<Response> {
  return gateway.signed("POST", "/v1/lfs/tokens", { body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...(as ? { as } : {}) });
}

async function mintedToken(gateway: TestGateway, body: Record<string, unknown>, as?: { keyid: string; key: TestGateway["admin"]["key"] }) {
  const response = await mint(gateway, body, as);
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; token: string; repo: string; access: string; expires_at: string; lfs_url: string };
}

async function refusal(response: Response): Promise<unknown> {
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, code: body.code, detail: body.detail };
}

const UNAUTHORIZED = { status: 401, code: "unauthorized", detail: undefined };
const LFS_RW: Scope[] = [{ prefix: "lfs/app/", actions: ["read", "write"] }];

describe("LFS Basic auth (lfsBasicAuth)", () => {
  it("lets a valid token in with its repository, access and minting key, whatever the user name", async () => {
    const gateway = await testGateway();
    const dev = await keyWithScopes(gateway, `dev-${crypto.randomUUID().slice(0, 8)}`, LFS_RW);
    const { id, token } = await mintedToken(gateway, { repo: "app", access: "write" }, dev);
    const probe = lfsProbe(gateway);
    const answer = await probe("/lfs/app/probe", basic(token, "anyone at all"));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ repo: "app", access: "write", tokenId: id, owner: dev.keyid });
    expect((await probe("/lfs/app/write", basic(token, ""), "POST")).status).toBe(200);
  });

  it.each([
    ["no Authorization header", undefined],
    ["a scheme other than Basic", "Bearer vglfs_000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["base64 that does not decode", "Basic !!!not-base64!!!"],
    ["credentials without a colon", `Basic ${btoa("just-a-token")}`],
    ["a password that is no token", basic("hunter2")],
    ["an unknown token id", basic(`vglfs_${"0".repeat(24)}_${"A".repeat(43)}`)],
  ])("refuses %s with a bare 401", async (_name, authorization) => {
    const gateway = await testGateway();
    expect(await refusal(await lfsProbe(gateway)("/lfs/app/probe", authorization))).toEqual(UNAUTHORIZED);
  });

  it("refuses a token whose secret is wrong, even by one character", async () => {
    const gateway = await testGateway();
    const { token } = await mintedToken(gateway, { repo: "app", access: "read" });
    const last = token.at(-1) === "A" ? "B" : "A";
    expect(await refusal(await lfsProbe(gateway)("/lfs/app/probe", basic(token.slice(0, -1) + last)))).toEqual(UNAUTHORIZED);
  });

  it("refuses a token from the second its expires_in ran out", async () => {
    const gateway = await testGateway();
    const { token } = await mintedToken(gateway, { repo: "app", access: "read", expires_in: 60 });
    const probe = lfsProbe(gateway);
    gateway.now += 59_999;
    expect((await probe("/lfs/app/probe", basic(token))).status).toBe(200);
    gateway.now += 1;
    expect(await refusal(await probe("/lfs/app/probe", basic(token)))).toEqual(UNAUTHORIZED);
  });

  it("refuses a token for another repository", async () => {
    const gateway = await testGateway();
    const { token } = await mintedToken(gateway, { repo: "app", access: "write" });
    expect(await refusal(await lfsProbe(gateway)("/lfs/app2/probe", basic(token)))).toEqual(UNAUTHORIZED);
  });

  it("refuses a revoked token", async () => {
    const gateway = await testGateway();
    const { id, token } = await mintedToken(gateway, { repo: "app", access: "read" });
    const probe = lfsProbe(gateway);
    expect((await probe("/lfs/app/probe", basic(token))).status).toBe(200);
    expect((await gateway.signed("DELETE", `/v1/lfs/tokens/${id}`)).status).toBe(204);
    expect(await refusal(await probe("/lfs/app/probe", basic(token)))).toEqual(UNAUTHORIZED);
  });

  it("refuses a token once its minting key is revoked", async () => {
    const gateway = await testGateway();
    const dev = await keyWithScopes(gateway, `dev-${crypto.randomUUID().slice(0, 8)}`, LFS_RW);
    const { token } = await mintedToken(gateway, { repo: "app", access: "read" }, dev);
    expect((await gateway.signed("DELETE", `/v1/keys/${dev.keyid}`)).status).toBe(204);
    expect(await refusal(await lfsProbe(gateway)("/lfs/app/probe", basic(token)))).toEqual(UNAUTHORIZED);
  });

  it("refuses a write token once its minting key's scopes no longer allow writing the repository", async () => {
    const gateway = await testGateway();
    const keyid = `dev-${crypto.randomUUID().slice(0, 8)}`;
    const dev = await keyWithScopes(gateway, keyid, LFS_RW);
    const { token } = await mintedToken(gateway, { repo: "app", access: "write" }, dev);
    // Key records are replaced by a new key under a new keyid in the API; a narrowed record is written as an operator would restore one.
    const metadata = new KvMetadataStore(env.META, new DurableObjectSwapAuthority(env.COMMITS));
    const record = (await metadata.get<Record<string, unknown>>(`key:${keyid}`)) ?? {};
    await metadata.put(`key:${keyid}`, { ...record, scopes: [{ prefix: "lfs/app/", actions: ["read"] }] });
    expect(await refusal(await lfsProbe(gateway)("/lfs/app/probe", basic(token)))).toEqual(UNAUTHORIZED);
  });

  it("answers 403 forbidden to a read token where the route needs write", async () => {
    const gateway = await testGateway();
    const { token } = await mintedToken(gateway, { repo: "app", access: "read" });
    const probe = lfsProbe(gateway);
    expect((await probe("/lfs/app/probe", basic(token))).status).toBe(200);
    expect(await refusal(await probe("/lfs/app/write", basic(token), "POST"))).toMatchObject({ status: 403, code: "forbidden" });
  });
});

describe("minting without a key", () => {
  it.each([
    ["off", "127.0.0.1"],
    ["soft", "203.0.113.7"],
  ])("AUTH_MODE=%s: the unauthenticated caller mints no token (403), since no key could vouch for it later", async (mode, peer) => {
    const gateway = await testGateway({ AUTH_MODE: mode });
    const body = JSON.stringify({ repo: "app", access: "read" });
    const digest = `sha-256=:${toBase64(await sha256(body))}:`;
    const request = new Request("http://127.0.0.1:8787/v1/lfs/tokens", {
      method: "POST",
      headers: { "content-type": "application/json", "x-test-client": peer, "content-digest": digest },
      body,
    });
    expect(await refusal(await gateway.fetch(request))).toMatchObject({ status: 403, code: "forbidden" });
  });
});
