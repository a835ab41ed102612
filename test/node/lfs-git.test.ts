import { randomBytes as randomSecret } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerigateClient } from "../../client/sdk/client.ts";
import { generateEd25519Key, importJwk } from "../../client/sdk/keys.ts";
import type { CreatedLfsToken } from "../../client/sdk/types.ts";
import { KIB, MIB } from "../../shared/bytes.ts";
import { lfsObjectKey } from "../../shared/lfs/repo.ts";
import { randomBytes, sha256Hex } from "./support/bytes.ts";
import { startLambdaGateway } from "./support/lambda-gateway.ts";
import { alterStoredObject, gitLfsMissing, isLfsPointer, type LfsRepo, type LfsUser, lfsUser, localObjectPath, newLfsRepo } from "./support/lfs-git.ts";
import type { ProxiedRequest } from "./support/interrupting-proxy.ts";
import { type ProxiedGateway, startProxiedGateway } from "./support/proxied-gateway.ts";
import type { Runtime } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";
import { startWorkersGateway } from "./support/workers-gateway.ts";

/**
 * Git LFS through Verigate with the real, unmodified git-lfs client (Debian's git-lfs 3.3.0), as a user runs it:
 * a bare local repository stands for the Git host, Verigate is the LFS server (`.lfsconfig`), and a credential
 * helper answers with an LFS token. Everything goes through an interrupting proxy in front of the gateway
 * (`PUBLIC_ORIGIN` names it), so a case sees the client's requests and can cut a download.
 */

const MISSING = gitLfsMissing();
/** CI installs git-lfs (.ci/run): there a missing client fails the file instead of skipping it unnoticed. */
const ON_CI = process.env.CI === "true";

/** Above 100 MiB, as the issue asks, once per runtime; the rest stay small so the file runs in about a minute. */
const LARGE = 100 * MIB + 1;
/**
 * Sizes a repository holds: one byte, two chunks (1 MiB each), above Lambda's 4,669,440-byte request cap (so on
 * Lambda a presigned storage PUT and `verify`), and the large one.
 */
const SIZES: Record<string, number> = { "one-byte.bin": 1, "two-chunks.bin": MIB + 1, "over-request-cap.bin": 5 * MIB + 3, "large.bin": LARGE };
/** The Lambda build's one-request upload cap (deploy/LAMBDA.md, "Limits"): larger objects go to storage directly. */
const LAMBDA_REQUEST_BYTES = 4_669_440;
/** The LFS repository every case's Git repositories use, as forks of one project share one LFS store. */
const LFS_REPO = "assets";
/** The most objects the real client puts in one batch request (its `lfs.transfer.batchSize` default). */
const CLIENT_BATCH = 100;

const LFS_MEDIA_TYPE = "application/vnd.git-lfs+json";
const BATCH_PATH = /^\/lfs\/[^/]+\/objects\/batch$/;
const GATEWAY_UPLOAD = /^\/lfs\/[^/]+\/upload\//;
const GATEWAY_DOWNLOAD = /^\/lfs\/[^/]+\/download\//;

type Start = (vars?: Record<string, string>) => Promise<GatewayHarness>;

const LFS_RUNTIMES: readonly (readonly [runtime: Runtime, start: Start, vars: Record<string, string>])[] = [
  // The large object goes up through the gateway in one request, so the one-request limit must admit it.
  ["workers", startWorkersGateway, { MAX_OBJECT_BYTES: String(128 * MIB) }],
  // Objects above the request cap go to S3 through a presigned PUT, then `verify`.
  ["lambda", startLambdaGateway, { PRESIGN_STORAGE: "on" }],
];

/** A raw batch request as git-lfs sends one, with `token` as the Basic password. */
function batch(lfsUrl: string, token: string, body: unknown): Promise<Response> {
  return fetch(`${lfsUrl}/objects/batch`, {
    method: "POST",
    headers: {
      accept: LFS_MEDIA_TYPE,
      "content-type": LFS_MEDIA_TYPE,
      authorization: `Basic ${Buffer.from(`lfs:${token}`).toString("base64")}`,
    },
    body: JSON.stringify(body),
  });
}

interface BatchAnswer {
  objects: { oid: string; size: number; actions?: Record<string, { href: string }>; error?: { code: number; message: string } }[];
}

const skipped = MISSING !== undefined && !ON_CI;
const describeWithClient = skipped ? describe.skip.each(LFS_RUNTIMES) : describe.each(LFS_RUNTIMES);
const skipNote = skipped ? ` (skipped: ${MISSING})` : "";

describeWithClient(`the real git-lfs client against Verigate on %s${skipNote}`, (runtime, start, vars) => {
  let fixture: ProxiedGateway;
  let root: string;
  let lfsUrl: string;
  /** Two people on two signing keys with write tokens, and a reader with a read token minted by alice's key. */
  let alice: LfsUser;
  let bob: LfsUser;
  let reader: LfsUser;
  let aliceKeyid: string;
  let aliceToken: CreatedLfsToken;
  let repoCount = 0;

  /** A user's signing key, registered with read and write on the LFS repository. */
  async function lfsKey(): Promise<VerigateClient> {
    const { jwk } = await generateEd25519Key();
    const scopes = [{ prefix: `lfs/${LFS_REPO}/`, actions: ["read" as const, "write" as const] }];
    await fixture.admin.keys.create({ keyid: jwk.kid, alg: "ed25519", public_key: jwk.x, scopes });
    return new VerigateClient({ endpoint: fixture.proxy.origin, key: await importJwk(jwk) });
  }

  /** A new Git repository (bare remote and alice's work tree) whose LFS server is Verigate. */
  function newRepo(): Promise<LfsRepo> {
    repoCount += 1;
    return newLfsRepo(alice, root, `repo-${repoCount}`, lfsUrl);
  }

  /** Writes `files` into `repo`'s work tree, commits and pushes them as alice; the push's requests through the proxy. */
  async function pushFiles(repo: LfsRepo, files: Map<string, Uint8Array>): Promise<ProxiedRequest[]> {
    for (const [name, bytes] of files) await writeFile(join(repo.work, name), bytes);
    await alice.git(repo.work, "add", ...files.keys());
    await alice.git(repo.work, "commit", "--quiet", "-m", `add ${files.size} files`);
    const mark = fixture.proxy.requests.length;
    await alice.git(repo.work, "push", "--quiet", "origin", "main");
    return fixture.proxy.requests.slice(mark);
  }

  /** A fresh clone of `repo` by `user` into a new directory; with `pointersOnly`, LFS files stay pointers. */
  async function cloneBy(user: LfsUser, repo: LfsRepo, pointersOnly = false): Promise<{ dir: string; code: number; stderr: string }> {
    repoCount += 1;
    const dir = join(root, `clone-${repoCount}`);
    const result = await user.run(root, ["clone", "--quiet", repo.remote, dir], pointersOnly ? { GIT_LFS_SKIP_SMUDGE: "1" } : {});
    return { dir, code: result.code, stderr: result.stderr };
  }

  beforeAll(async () => {
    if (MISSING !== undefined) throw new Error(`${MISSING}; under CI the real client is required`);
    fixture = await startProxiedGateway(start, { PRESIGN_SECRET: randomSecret(32).toString("base64url"), ...vars });
    root = await mkdtemp(join(tmpdir(), `verigate-lfs-git-${runtime}-`));
    const [aliceKey, bobKey] = await Promise.all([lfsKey(), lfsKey()]);
    aliceKeyid = (await aliceKey.whoami()).keyid;
    const [aliceWrite, bobWrite, aliceRead] = await Promise.all([
      aliceKey.createLfsToken(LFS_REPO, { access: "write" }),
      bobKey.createLfsToken(LFS_REPO, { access: "write" }),
      aliceKey.createLfsToken(LFS_REPO),
    ]);
    aliceToken = aliceWrite;
    lfsUrl = aliceWrite.lfs_url;
    [alice, bob, reader] = await Promise.all([
      lfsUser(root, "alice", aliceWrite.token, lfsUrl),
      lfsUser(root, "bob", bobWrite.token, lfsUrl),
      lfsUser(root, "reader", aliceRead.token, lfsUrl),
    ]);
  });

  afterAll(async () => {
    await fixture?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("names the proxy in front of the gateway as the LFS URL, as behind any front", () => {
    expect(lfsUrl).toBe(`${fixture.proxy.origin}/lfs/${LFS_REPO}`);
  });

  it("pushes files of several sizes, one above 100 MiB, and a clone elsewhere checks out the same bytes", async () => {
    const repo = await newRepo();
    const files = new Map(Object.entries(SIZES).map(([name, size]) => [name, randomBytes(size)]));
    const pushed = await pushFiles(repo, files);

    // Which way each object went up: through the gateway, or (on Lambda, above the request cap) straight to storage.
    const throughGateway = pushed.filter((request) => request.method === "PUT" && GATEWAY_UPLOAD.test(request.url));
    const expectedThroughGateway = [...files.values()].filter((bytes) => runtime !== "lambda" || bytes.length <= LAMBDA_REQUEST_BYTES);
    expect(throughGateway.map((request) => request.status)).toEqual(expectedThroughGateway.map(() => 200));

    const clone = await cloneBy(bob, repo);
    expect(clone.code, clone.stderr).toBe(0);
    for (const [name, bytes] of files) expect(sha256Hex(await readFile(join(clone.dir, name))), name).toBe(sha256Hex(bytes));
  });

  it("refuses a blob altered in storage: git lfs pull and a fresh clone fail, and no altered file is checked out", async () => {
    const repo = await newRepo();
    const original = randomBytes(3 * MIB + 5);
    const oid = sha256Hex(original);
    await pushFiles(repo, new Map([["tampered.bin", original]]));
    // One byte of the second chunk: the gateway has already sent the first chunk when it finds the damage.
    const altered = await alterStoredObject(fixture.gateway, LFS_REPO, oid, MIB + MIB / 2);

    const fresh = await cloneBy(bob, repo);
    expect(fresh.code).not.toBe(0);
    expect(fresh.stderr).toContain(oid);
    await expectNotCheckedOut(fresh.dir, "tampered.bin", oid, altered);

    const pointers = await cloneBy(bob, repo, true);
    expect(pointers.code, pointers.stderr).toBe(0);
    const logMark = fixture.gateway.logs().length;
    const pull = await bob.run(pointers.dir, ["lfs", "pull"]);
    expect(pull.code).not.toBe(0);
    await fixture.gateway.waitForEvent("integrity_failure", (line) => line.key === lfsObjectKey(LFS_REPO, oid), logMark);
    expect(pull.stderr).toContain(`Failed to fetch some objects from '${lfsUrl}'`);
    await expectNotCheckedOut(pointers.dir, "tampered.bin", oid, altered);
  });

  it("answers a wrong or expired token with 401 and LFS-Authenticate, and the non-interactive client gives up", async () => {
    const repo = await newRepo();
    await pushFiles(repo, new Map([["small.bin", randomBytes(KIB)]]));

    const wrong = await lfsUser(root, "mallory", `vglfs_${randomSecret(12).toString("hex")}_${randomSecret(32).toString("base64url")}`, lfsUrl);
    await expectPullRefused(wrong, repo);

    const expiring = await fixture.admin.createLfsToken(LFS_REPO);
    const holder = await lfsUser(root, "expiring", expiring.token, lfsUrl);
    const valid = await cloneBy(holder, repo, true);
    expect((await holder.run(valid.dir, ["lfs", "pull"])).code).toBe(0);
    const record = (await fixture.gateway.kv.get(`lfst:${expiring.id}`, "json")) as Record<string, unknown>;
    await fixture.gateway.kv.put(`lfst:${expiring.id}`, JSON.stringify({ ...record, expires_at: new Date(Date.now() - 1000).toISOString() }));
    await expectPullRefused(holder, repo);

    const raw = await batch(lfsUrl, "vglfs_not_a_token", { operation: "download", objects: [] });
    expect(raw.status).toBe(401);
    expect(raw.headers.get("lfs-authenticate")).toMatch(/^Basic realm=/);
  });

  it("does not let a read token push: the push fails and the object is not stored", async () => {
    const repo = await newRepo();
    await pushFiles(repo, new Map([["first.bin", randomBytes(KIB)]]));
    const clone = await cloneBy(reader, repo, true);
    const before = await reader.git(clone.dir, "ls-remote", "origin", "main");
    const denied = randomBytes(2 * KIB);
    await writeFile(join(clone.dir, "denied.bin"), denied);
    await reader.git(clone.dir, "add", "denied.bin");
    await reader.git(clone.dir, "commit", "--quiet", "-m", "a reader tries to push");
    // Refused at the lock check first (it needs write access, as the locking API says) and, with that check off, by the batch API.
    const checked = await reader.run(clone.dir, ["push", "origin", "main"]);
    expect(checked.code).not.toBe(0);
    const mark = fixture.proxy.requests.length;
    const unchecked = await reader.run(clone.dir, ["-c", "lfs.locksverify=false", "push", "origin", "main"]);
    expect(unchecked.code).not.toBe(0);
    const batchStatuses = fixture.proxy.requests
      .slice(mark)
      .filter((request) => BATCH_PATH.test(request.url))
      .map((request) => request.status);
    expect(batchStatuses).toContain(403);
    expect(await reader.git(clone.dir, "ls-remote", "origin", "main")).toBe(before);
    expect(await fixture.gateway.kv.get(`obj:${lfsObjectKey(LFS_REPO, sha256Hex(denied))}`)).toBeNull();
  });

  it("locks a path for exactly one of two clients racing for it; locks lists it, the other can neither unlock it nor push over it", async () => {
    const repo = await newRepo();
    await pushFiles(repo, new Map([["shared.bin", randomBytes(KIB)]]));
    const [aliceClone, bobClone] = await Promise.all([cloneBy(alice, repo, true), cloneBy(bob, repo, true)]);

    const attempts = await Promise.all([alice.run(aliceClone.dir, ["lfs", "lock", "shared.bin"]), bob.run(bobClone.dir, ["lfs", "lock", "shared.bin"])]);
    const winners = attempts.filter((attempt) => attempt.code === 0);
    expect(winners).toHaveLength(1);
    const [holder, holderDir, other, otherDir] =
      attempts[0]!.code === 0 ? [alice, aliceClone.dir, bob, bobClone.dir] : [bob, bobClone.dir, alice, aliceClone.dir];
    expect(attempts.find((attempt) => attempt.code !== 0)!.stderr).toMatch(/already|exists/i);

    const listed = await other.git(otherDir, "lfs", "locks");
    expect(listed).toMatch(/^shared\.bin\s+\S+\s+ID:[0-9a-f]+/m);
    if (holder === alice) expect(listed).toContain(aliceKeyid);

    // The other client's push of a change to the locked file is refused by the lock check before anything moves.
    await writeFile(join(otherDir, "shared.bin"), randomBytes(KIB));
    await other.git(otherDir, "commit", "--quiet", "-am", "change a file someone else locked");
    const push = await other.run(otherDir, ["push", "origin", "main"]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/locked/i);

    const refused = await other.run(otherDir, ["lfs", "unlock", "shared.bin"]);
    expect(refused.code).not.toBe(0);
    await holder.git(holderDir, "lfs", "unlock", "shared.bin");
    expect((await holder.git(holderDir, "lfs", "locks")).trim()).toBe("");
  });

  it("resumes an interrupted download with a Range request and checks out the whole file", async () => {
    const repo = await newRepo();
    const original = randomBytes(3 * MIB + 7);
    await pushFiles(repo, new Map([["resumed.bin", original]]));
    const clone = await cloneBy(bob, repo, true);
    const cutAt = MIB + 12_345;
    const interrupted = fixture.proxy.interrupt({ method: "GET", url: GATEWAY_DOWNLOAD, afterBytes: cutAt, how: "cut" });
    const mark = fixture.proxy.requests.length;
    const pull = await bob.run(clone.dir, ["lfs", "pull"]);
    await interrupted;
    expect(pull.code, pull.stderr).toBe(0);
    expect(sha256Hex(await readFile(join(clone.dir, "resumed.bin")))).toBe(sha256Hex(original));
    const downloads = fixture.proxy.requests.slice(mark).filter((request) => request.method === "GET" && GATEWAY_DOWNLOAD.test(request.url));
    expect(downloads.map((request) => [request.headers.range, request.status])).toEqual([
      [undefined, 200],
      [`bytes=${cutAt}-${original.length - 1}`, 206],
    ]);
  });

  it(`pushes ${CLIENT_BATCH} objects in one batch request, and the batch API answers for ${CLIENT_BATCH} but not ${CLIENT_BATCH + 1}`, async () => {
    const repo = await newRepo();
    const files = new Map(Array.from({ length: CLIENT_BATCH }, (_, index) => [`many-${index}.bin`, randomBytes(100 + index)]));
    const pushed = await pushFiles(repo, files);
    expect(pushed.filter((request) => request.method === "POST" && BATCH_PATH.test(request.url) && request.status === 200)).toHaveLength(1);
    expect(pushed.filter((request) => request.method === "PUT" && GATEWAY_UPLOAD.test(request.url) && request.status === 200)).toHaveLength(CLIENT_BATCH);

    const objects = [...files.values()].map((bytes) => ({ oid: sha256Hex(bytes), size: bytes.length }));
    const answer = await batch(lfsUrl, aliceToken.token, { operation: "download", transfers: ["basic"], objects });
    expect(answer.status).toBe(200);
    const { objects: answered } = (await answer.json()) as BatchAnswer;
    expect(answered.filter((object) => object.actions?.download !== undefined)).toHaveLength(CLIENT_BATCH);
    const tooMany = await batch(lfsUrl, aliceToken.token, { operation: "download", objects: [...objects, { oid: "0".repeat(64), size: 1 }] });
    expect(tooMany.status).toBe(413);
  });

  it("refuses an oid with path characters per object, and stores nothing for it", async () => {
    const oids = ["../../../etc/passwd", `${"a".repeat(62)}/.`, `..%2f${"b".repeat(59)}`, "C".repeat(64), `${"c".repeat(63)}\u0000`];
    for (const operation of ["upload", "download"]) {
      const answer = await batch(lfsUrl, aliceToken.token, { operation, objects: oids.map((oid) => ({ oid, size: 1 })) });
      expect(answer.status).toBe(200);
      const { objects } = (await answer.json()) as BatchAnswer;
      expect(objects.map((object) => [object.error?.code, object.actions])).toEqual(oids.map(() => [422, undefined]));
    }
    const stored = await fixture.gateway.kv.list({ prefix: `obj:lfs/` });
    expect(stored.keys.filter((key) => !/^obj:lfs\/[^/]+\/[0-9a-f]{64}$/.test(key.name))).toEqual([]);
  });

  /** A wrong or expired token: the batch API answers 401 and the client, with no terminal to ask on, fails. */
  async function expectPullRefused(user: LfsUser, repo: LfsRepo): Promise<void> {
    const clone = await cloneBy(user, repo, true);
    expect(clone.code, clone.stderr).toBe(0);
    const mark = fixture.proxy.requests.length;
    const pull = await user.run(clone.dir, ["lfs", "pull"]);
    expect(pull.code).not.toBe(0);
    const batches = fixture.proxy.requests.slice(mark).filter((request) => BATCH_PATH.test(request.url));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((request) => request.status === 401)).toBe(true);
    expect(isLfsPointer(await readFile(join(clone.dir, "small.bin")))).toBe(true);
  }
});

/** After a refused download: the file is absent or still a pointer, never the altered bytes, and the clone's LFS store does not hold the object. */
async function expectNotCheckedOut(dir: string, name: string, oid: string, altered: Uint8Array): Promise<void> {
  const content = await readFile(join(dir, name)).catch(() => null);
  if (content !== null) {
    expect(Buffer.from(content).equals(Buffer.from(altered))).toBe(false);
    expect(isLfsPointer(content)).toBe(true);
  }
  expect(await stat(localObjectPath(dir, oid)).catch(() => null)).toBeNull();
}
