import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEd25519Key } from "../support/keys.ts";
import { problemOf } from "../support/problem.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness, Signer } from "./support/wire.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

interface MintedToken {
  id: string;
  token: string;
  repo: string;
  access: string;
  keyid: string;
  created_at: string;
  expires_at: string;
  lfs_url: string;
}

/**
 * `POST/GET/DELETE /v1/lfs/tokens` (PROTOCOL section 8, "Tokens") over real HTTP on every build, each answer checked
 * against the OpenAPI document by the wire client. Who may mint for a repository, who sees and who may revoke a
 * token; what a token then lets in is test/workerd/lfs-auth.test.ts.
 */
describe.each(RUNTIMES)("on %s, LFS tokens", (_runtime, start) => {
  let gateway: GatewayHarness;
  let dev: Signer;
  let other: Signer;

  async function keyWithScopes(keyid: string, scopes: unknown[]): Promise<Signer> {
    const pair = await newEd25519Key();
    const created = await gateway.signedFetch("POST", "/v1/keys", {
      body: json({ keyid, alg: "ed25519", public_key: pair.publicKey, scopes }),
      headers: JSON_HEADERS,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    return { keyid, key: { alg: "ed25519", privateKey: pair.privateKey } };
  }

  function mint(body: Record<string, unknown>, as?: Signer): Promise<Response> {
    return gateway.signedFetch("POST", "/v1/lfs/tokens", { body: json(body), headers: JSON_HEADERS, ...(as ? { as } : {}) });
  }

  async function minted(body: Record<string, unknown>, as?: Signer): Promise<MintedToken> {
    const response = await mint(body, as);
    expect(response.status, await response.clone().text()).toBe(201);
    return (await response.json()) as MintedToken;
  }

  async function listed(path: string, as?: Signer): Promise<string[]> {
    const response = await gateway.signedFetch("GET", path, as ? { as } : {});
    expect(response.status).toBe(200);
    const text = await response.text();
    // Neither the secret nor its hash is ever listed.
    expect(text).not.toMatch(/vglfs_|secret/);
    return ((JSON.parse(text) as { tokens: MintedToken[] }).tokens ?? []).map((token) => token.id).sort();
  }

  beforeAll(async () => {
    gateway = await start();
    const suffix = crypto.randomUUID().slice(0, 8);
    dev = await keyWithScopes(`lfs-dev-${suffix}`, [
      { prefix: "lfs/app/", actions: ["read", "write"] },
      { prefix: "lfs/docs/", actions: ["read"] },
    ]);
    other = await keyWithScopes(`lfs-other-${suffix}`, [{ prefix: "lfs/", actions: ["read", "write"] }]);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("mints a token for an admin key: 201 with the token once, its expiry (7 days by default) and the lfs.url to use", async () => {
    const before = Date.now();
    const token = await minted({ repo: "app", access: "write" });
    expect(token).toMatchObject({ repo: "app", access: "write", keyid: gateway.admin.keyid, lfs_url: `${gateway.origin}/lfs/app` });
    expect(token.token).toMatch(new RegExp(`^vglfs_${token.id}_[A-Za-z0-9_-]{43}$`));
    const lifetimeMs = Date.parse(token.expires_at) - Date.parse(token.created_at);
    expect(lifetimeMs).toBe(7 * 24 * 3600 * 1000);
    expect(Date.parse(token.created_at)).toBeGreaterThanOrEqual(before - 1000);
    const short = await minted({ repo: "app", access: "read", expires_in: 60 });
    expect(Date.parse(short.expires_at) - Date.parse(short.created_at)).toBe(60_000);
  });

  it("mints for a key whose scopes cover the repository for that access, and answers 403 forbidden otherwise", async () => {
    expect((await minted({ repo: "app", access: "write" }, dev)).keyid).toBe(dev.keyid);
    expect((await minted({ repo: "docs", access: "read" }, dev)).access).toBe("read");
    expect(await problemOf(await mint({ repo: "docs", access: "write" }, dev))).toEqual({ status: 403, code: "forbidden" });
    expect(await problemOf(await mint({ repo: "elsewhere", access: "read" }, dev))).toEqual({ status: 403, code: "forbidden" });
  });

  it.each([
    ["no access", { repo: "app" }],
    ["an access other than read or write", { repo: "app", access: "admin" }],
    ["a repository name with a slash", { repo: "app/sub", access: "read" }],
    ["a repository name ending with a dot", { repo: "app.", access: "read" }],
    ["expires_in below 60 s", { repo: "app", access: "read", expires_in: 59 }],
    ["expires_in above 90 days", { repo: "app", access: "read", expires_in: 90 * 24 * 3600 + 1 }],
    ["a fractional expires_in", { repo: "app", access: "read", expires_in: 60.5 }],
    ["expires_in as text", { repo: "app", access: "read", expires_in: "3600" }],
  ])("answers 400 bad_request to %s", async (_name, body) => {
    expect(await problemOf(await mint(body))).toEqual({ status: 400, code: "bad_request" });
  });

  it("lists every token to an admin key and only its own to another key, optionally for one repository", async () => {
    const mine = await minted({ repo: "app", access: "read" }, other);
    const theirs = await minted({ repo: "docs", access: "read" }, other);
    const devs = await minted({ repo: "app", access: "read" }, dev);
    expect(await listed("/v1/lfs/tokens", other)).toEqual([mine.id, theirs.id].sort());
    expect(await listed("/v1/lfs/tokens?repo=docs", other)).toEqual([theirs.id]);
    const all = await listed("/v1/lfs/tokens");
    expect(all).toEqual(expect.arrayContaining([mine.id, theirs.id, devs.id]));
    expect(await listed("/v1/lfs/tokens?repo=nothing-here")).toEqual([]);
    expect(await problemOf(await gateway.signedFetch("GET", "/v1/lfs/tokens?repo=a%2Fb"))).toEqual({ status: 400, code: "bad_request" });
  });

  it("revokes a token for its minting key or an admin key; to any other key it is 404 not_found, as an unknown id", async () => {
    const token = await minted({ repo: "app", access: "write" }, dev);
    expect(await problemOf(await gateway.signedFetch("DELETE", `/v1/lfs/tokens/${token.id}`, { as: other }))).toEqual({ status: 404, code: "not_found" });
    expect(await listed("/v1/lfs/tokens", dev)).toContain(token.id);
    expect((await gateway.signedFetch("DELETE", `/v1/lfs/tokens/${token.id}`, { as: dev })).status).toBe(204);
    expect(await listed("/v1/lfs/tokens", dev)).not.toContain(token.id);
    expect(await problemOf(await gateway.signedFetch("DELETE", `/v1/lfs/tokens/${token.id}`, { as: dev }))).toEqual({ status: 404, code: "not_found" });
    const byAdmin = await minted({ repo: "app", access: "read" }, dev);
    expect((await gateway.signedFetch("DELETE", `/v1/lfs/tokens/${byAdmin.id}`)).status).toBe(204);
    expect(await problemOf(await gateway.signedFetch("DELETE", "/v1/lfs/tokens/not-an-id"))).toEqual({ status: 404, code: "not_found" });
  });
});
