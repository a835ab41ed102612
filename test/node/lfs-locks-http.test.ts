import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEd25519Key } from "../support/keys.ts";
import { checkResponse } from "./support/openapi.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness, Signer } from "./support/wire.ts";

const LFS_JSON = "application/vnd.git-lfs+json";
/** What git-lfs 3.3.0 sends on every lock request (lfshttp: `NewRequest` with a body). */
const LFS_HEADERS = { accept: LFS_JSON, "content-type": `${LFS_JSON}; charset=utf-8` };
/** Clients racing for one path over HTTP. */
const RACE = 6;

interface Lock {
  id: string;
  path: string;
  locked_at: string;
  owner: { name: string };
}

interface LfsError {
  status: number;
  code: string;
  message: string;
}

/**
 * Git LFS file locking (git-lfs docs/api/locking.md; PROTOCOL section 8, "Locks") over real HTTP on every build, each
 * answer checked against the OpenAPI document: who may lock, list, verify and unlock, one owner per path under
 * concurrency, and the bodies git-lfs 3.3.0 reads (`lock` and `message` of a 409). The stores themselves are
 * test/contracts/lfs-locks.ts; the real git-lfs client against them is test/node/lfs-git.test.ts.
 */
describe.each(RUNTIMES)("on %s, LFS locks", (_runtime, start) => {
  let gateway: GatewayHarness;
  let dev: Signer;
  /** Write tokens of two owners (the admin key and `dev`), and a read token, all for repository `app`. */
  let alice: string;
  let bob: string;
  let reader: string;
  /** Write tokens of the admin key for repositories `docs` and `pages` (the listing cases, which need a known set of locks). */
  let docs: string;
  let pages: string;

  async function mint(repo: string, access: "read" | "write", as?: Signer): Promise<string> {
    const response = await gateway.signedFetch("POST", "/v1/lfs/tokens", {
      body: new TextEncoder().encode(JSON.stringify({ repo, access })),
      headers: { "content-type": "application/json" },
      ...(as ? { as } : {}),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return ((await response.json()) as { token: string }).token;
  }

  /** A request as git-lfs sends it: HTTP Basic with the token as password, the LFS media type, a JSON body. */
  async function lfs(method: "GET" | "POST", path: string, token: string | null, body?: unknown, headers: Record<string, string> = LFS_HEADERS) {
    const response = await fetch(gateway.origin + path, {
      method,
      headers: { ...headers, ...(token === null ? {} : { authorization: `Basic ${btoa(`git:${token}`)}` }) },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    await checkResponse(method, path, response);
    return response;
  }

  /** A 2xx answer's JSON, under the LFS media type. */
  async function ok<T>(response: Response, status = 200): Promise<T> {
    const text = await response.text();
    expect(response.status, text).toBe(status);
    expect(response.headers.get("content-type")).toBe(LFS_JSON);
    return JSON.parse(text) as T;
  }

  /** An error answer as git-lfs reads it: its `message`, beside the problem fields, whose request id is the response's. */
  async function failure(response: Response): Promise<LfsError & Record<string, unknown>> {
    expect(response.headers.get("content-type")).toBe(LFS_JSON);
    const body = (await response.json()) as LfsError & { request_id: string } & Record<string, unknown>;
    expect(body.status).toBe(response.status);
    expect(body.request_id).toBe(response.headers.get("x-request-id"));
    expect(typeof body.message).toBe("string");
    return body;
  }

  async function refusal(response: Response): Promise<{ status: number; code: string }> {
    const { status, code } = await failure(response);
    return { status, code };
  }

  async function lock(path: string, token: string, repo = "app"): Promise<Lock> {
    return (await ok<{ lock: Lock }>(await lfs("POST", `/lfs/${repo}/locks`, token, { path, ref: { name: "refs/heads/main" } }), 201)).lock;
  }

  async function listed(query: string, token: string, repo = "app"): Promise<{ locks: Lock[]; next_cursor?: string }> {
    return ok(await lfs("GET", `/lfs/${repo}/locks${query}`, token));
  }

  beforeAll(async () => {
    gateway = await start();
    const pair = await newEd25519Key();
    dev = { keyid: `lfs-dev-${crypto.randomUUID().slice(0, 8)}`, key: { alg: "ed25519", privateKey: pair.privateKey } };
    const created = await gateway.signedFetch("POST", "/v1/keys", {
      body: new TextEncoder().encode(
        JSON.stringify({ keyid: dev.keyid, alg: "ed25519", public_key: pair.publicKey, scopes: [{ prefix: "lfs/app/", actions: ["read", "write"] }] }),
      ),
      headers: { "content-type": "application/json" },
    });
    expect(created.status).toBe(201);
    [alice, bob, reader, docs, pages] = await Promise.all([
      mint("app", "write"),
      mint("app", "write", dev),
      mint("app", "read"),
      mint("docs", "write"),
      mint("pages", "write"),
    ]);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("locks a path for the key that minted the token: 201 with the lock, owner = keyid, locked_at to the second", async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const created = await lock("art/hero.psd", alice);
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      path: "art/hero.psd",
      locked_at: expect.any(String),
      owner: { name: gateway.admin.keyid },
    });
    expect(created.locked_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(created.locked_at)).toBeGreaterThanOrEqual(before);
    await gateway.waitForEvent("lfs_lock_created", (line) => line.lock_id === created.id && line.repo === "app" && line.owner === gateway.admin.keyid);
  });

  it("answers a lock of a held path 409 lock_exists with the existing lock and a message, as git-lfs reads it", async () => {
    const held = await lock("levels/one.umap", alice);
    for (const token of [bob, alice]) {
      const response = await lfs("POST", "/lfs/app/locks", token, { path: "levels/one.umap" });
      expect(response.status).toBe(409);
      const body = await failure(response);
      expect(body).toMatchObject({ code: "lock_exists", lock: held });
      expect(body.message).toContain("levels/one.umap");
    }
  });

  it(`of ${RACE} clients racing to lock one path exactly one gets 201, the others 409 naming the winner's lock`, async () => {
    const tokens = Array.from({ length: RACE }, (_, n) => (n % 2 === 0 ? alice : bob));
    const responses = await Promise.all(tokens.map((token) => lfs("POST", "/lfs/app/locks", token, { path: "race/one.bin" })));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([201, ...Array(RACE - 1).fill(409)]);
    const winner = (
      await ok<{ lock: Lock }>(
        responses.find((response) => response.status === 201)!,
        201,
      )
    ).lock;
    for (const response of responses.filter((candidate) => candidate.status === 409)) expect((await failure(response)).lock).toEqual(winner);
    expect((await listed("?path=race%2Fone.bin", reader)).locks).toEqual([winner]);
  });

  it("lists to a read token, by path and by id; an id that is no lock id finds nothing", async () => {
    const locks = [];
    for (const path of ["list/a.bin", "list/b.bin"]) locks.push(await lock(path, bob));
    expect((await listed("?path=list%2Fb.bin", reader)).locks).toEqual([locks[1]]);
    expect((await listed(`?id=${locks[0]!.id}`, reader)).locks).toEqual([locks[0]]);
    expect(await listed("?id=not-a-lock-id", reader)).toEqual({ locks: [] });
    expect(await listed("?path=list%2Fnone.bin&refspec=refs%2Fheads%2Fmain", reader)).toEqual({ locks: [] });
  });

  it("pages a listing by limit and next_cursor, and serves a limit above 100 as 100", async () => {
    const locks = [];
    for (const path of ["a.bin", "b.bin", "c.bin"]) locks.push(await lock(path, pages, "pages"));
    expect(await listed("?limit=2", pages, "pages")).toEqual({ locks: locks.slice(0, 2), next_cursor: "b.bin" });
    expect(await listed("?limit=2&cursor=b.bin", pages, "pages")).toEqual({ locks: locks.slice(2) });
    expect(await listed("?limit=1000", pages, "pages")).toEqual({ locks });
  });

  it("verifies for a write token: its owner's locks in ours, everyone else's in theirs", async () => {
    const mine = await lock("verify/alice.bin", alice);
    const theirs = await lock("verify/bob.bin", bob);
    const forAlice = await ok<{ ours: Lock[]; theirs: Lock[] }>(
      await lfs("POST", "/lfs/app/locks/verify", alice, { ref: { name: "refs/heads/main" }, limit: 100 }),
    );
    expect(forAlice.ours).toContainEqual(mine);
    expect(forAlice.theirs).toContainEqual(theirs);
    expect(forAlice.ours.every((candidate) => candidate.owner.name === gateway.admin.keyid)).toBe(true);
    expect(forAlice.theirs.every((candidate) => candidate.owner.name !== gateway.admin.keyid)).toBe(true);
    const forBob = await ok<{ ours: Lock[]; theirs: Lock[] }>(await lfs("POST", "/lfs/app/locks/verify", bob, {}));
    expect(forBob.ours).toContainEqual(theirs);
    expect(forBob.theirs).toContainEqual(mine);
  });

  it("pages verify by limit and cursor", async () => {
    const locks = [];
    for (const path of ["verify/a.bin", "verify/b.bin"]) locks.push(await lock(path, pages, "pages"));
    const first = await ok<{ ours: Lock[]; theirs: Lock[]; next_cursor?: string }>(await lfs("POST", "/lfs/pages/locks/verify", pages, { limit: 1 }));
    expect(first.ours).toHaveLength(1);
    expect(first).toEqual({ ours: [first.ours[0]], theirs: [], next_cursor: first.ours[0]!.path });
    const rest = await ok<{ ours: Lock[]; theirs: Lock[]; next_cursor?: string }>(
      await lfs("POST", "/lfs/pages/locks/verify", pages, { limit: 100, cursor: first.next_cursor }),
    );
    expect(rest.next_cursor).toBeUndefined();
    expect([...first.ours, ...rest.ours]).toEqual(expect.arrayContaining(locks));
  });

  it("unlocks for the owner; another owner gets 403 forbidden unless it forces; an unlocked id is then 404", async () => {
    const held = await lock("unlock/owned.bin", alice);
    expect(await refusal(await lfs("POST", `/lfs/app/locks/${held.id}/unlock`, bob, { force: false }))).toEqual({ status: 403, code: "forbidden" });
    expect((await listed(`?id=${held.id}`, reader)).locks).toEqual([held]);
    expect(await ok(await lfs("POST", `/lfs/app/locks/${held.id}/unlock`, alice, {}))).toEqual({ lock: held });
    expect(await refusal(await lfs("POST", `/lfs/app/locks/${held.id}/unlock`, alice, {}))).toEqual({ status: 404, code: "not_found" });
    expect(await refusal(await lfs("POST", "/lfs/app/locks/not-an-id/unlock", alice, {}))).toEqual({ status: 404, code: "not_found" });

    const broken = await lock("unlock/forced.bin", alice);
    expect(await ok(await lfs("POST", `/lfs/app/locks/${broken.id}/unlock`, bob, { force: true }))).toEqual({ lock: broken });
    await gateway.waitForEvent("lfs_lock_removed", (line) => line.lock_id === broken.id && line.forced === true && line.by === dev.keyid);
    expect((await listed("?path=unlock%2Fforced.bin", reader)).locks).toEqual([]);
    expect((await lock("unlock/forced.bin", bob)).owner.name).toBe(dev.keyid);
  });

  it("refuses a read token every write: lock, verify and unlock (even forced) are 403 forbidden and change nothing", async () => {
    const held = await lock("read-only/held.bin", alice);
    expect(await refusal(await lfs("POST", "/lfs/app/locks", reader, { path: "read-only/new.bin" }))).toEqual({ status: 403, code: "forbidden" });
    expect(await refusal(await lfs("POST", "/lfs/app/locks/verify", reader, {}))).toEqual({ status: 403, code: "forbidden" });
    expect(await refusal(await lfs("POST", `/lfs/app/locks/${held.id}/unlock`, reader, { force: true }))).toEqual({ status: 403, code: "forbidden" });
    expect((await listed("?path=read-only%2Fnew.bin", reader)).locks).toEqual([]);
    expect((await listed(`?id=${held.id}`, reader)).locks).toEqual([held]);
  });

  it("keeps repositories apart: a token of one is 401 on another, the same path locks in each, and an id of one is 404 in the other", async () => {
    expect(await refusal(await lfs("GET", "/lfs/docs/locks", alice))).toEqual({ status: 401, code: "unauthorized" });
    expect(await refusal(await lfs("GET", "/lfs/app/locks", null))).toEqual({ status: 401, code: "unauthorized" });
    const inApp = await lock("shared/path.bin", alice);
    const inDocs = await lock("shared/path.bin", docs, "docs");
    expect(inDocs.id).not.toBe(inApp.id);
    expect(await refusal(await lfs("POST", `/lfs/docs/locks/${inApp.id}/unlock`, docs, { force: true }))).toEqual({ status: 404, code: "not_found" });
    expect((await listed("?path=shared%2Fpath.bin", alice)).locks).toEqual([inApp]);
  });

  it("answers 406 not_acceptable to a request that accepts no JSON answer, before it locks anything", async () => {
    const html = { accept: "text/html", "content-type": LFS_JSON };
    expect(await refusal(await lfs("POST", "/lfs/app/locks", alice, { path: "accept/none.bin" }, html))).toEqual({ status: 406, code: "not_acceptable" });
    expect(await refusal(await lfs("GET", "/lfs/app/locks", reader, undefined, html))).toEqual({ status: 406, code: "not_acceptable" });
    expect((await listed("?path=accept%2Fnone.bin", reader)).locks).toEqual([]);
  });

  it.each([
    ["an absolute path", { path: "/etc/passwd" }],
    ["an empty path", { path: "" }],
    ["a path with NUL", { path: "a\u0000b" }],
    ["a path longer than 1,024 bytes of UTF-8", { path: "é".repeat(513) }],
    ["a path that is not a string", { path: 7 }],
    ["no path", { ref: { name: "refs/heads/main" } }],
    ["a body that is not an object", ["a.bin"]],
  ])("answers a lock with %s 400 bad_request naming the field", async (_name, body) => {
    const response = await lfs("POST", "/lfs/app/locks", alice, body);
    const problem = await failure(response);
    expect({ status: problem.status, code: problem.code }).toEqual({ status: 400, code: "bad_request" });
    expect(problem.message).toMatch(/path|object/);
  });

  it("answers 400 bad_request to a body that is not JSON, a body not labelled JSON, a bad limit, cursor or force", async () => {
    expect(await refusal(await lfs("POST", "/lfs/app/locks", alice, "{"))).toEqual({ status: 400, code: "bad_request" });
    expect(await refusal(await lfs("POST", "/lfs/app/locks", alice, { path: "a.bin" }, { "content-type": "text/plain" }))).toEqual({
      status: 400,
      code: "bad_request",
    });
    for (const query of ["?limit=0", "?limit=-1", "?limit=ten", "?cursor=%2Fabs"]) {
      expect(await refusal(await lfs("GET", `/lfs/app/locks${query}`, reader)), query).toEqual({ status: 400, code: "bad_request" });
    }
    expect(await refusal(await lfs("POST", "/lfs/app/locks/verify", alice, { limit: "10" }))).toEqual({ status: 400, code: "bad_request" });
    const held = await lock("bad/force.bin", alice);
    expect(await refusal(await lfs("POST", `/lfs/app/locks/${held.id}/unlock`, alice, { force: "yes" }))).toEqual({ status: 400, code: "bad_request" });
    expect((await listed(`?id=${held.id}`, reader)).locks).toEqual([held]);
  });
});
