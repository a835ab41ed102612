import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueActionToken } from "../../shared/lfs/action-token.ts";
import { bytesOf, randomBytes, sha256Hex } from "./support/bytes.ts";
import {
  basicAuth,
  batch,
  batchObjects,
  batchOne,
  followAction,
  LFS_JSON,
  lfsFetch,
  type LfsToken,
  mintLfsToken,
  revokeLfsToken,
} from "./support/lfs-client.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

const CHUNK = 64 * 1024;
/** PROTOCOL section 7 asks for at least 32 bytes; the test seals action tokens of its own with it. */
const PRESIGN_SECRET = "presign-secret-for-the-lfs-batch-contract-0123456789";
/** Small, so an object above one request stays cheap: uploads above it need storage presign, which is off here. */
const MAX_OBJECT_BYTES = 512 * 1024;

function object(bytes: Uint8Array): { oid: string; size: number } {
  return { oid: sha256Hex(bytes), size: bytes.length };
}

interface LfsError {
  message: string;
  request_id: string;
  documentation_url: string;
  code: string;
  status: number;
}

async function lfsError(gateway: GatewayHarness, response: Response, status: number, code: string): Promise<LfsError> {
  expect(response.status, await response.clone().text()).toBe(status);
  expect(response.headers.get("content-type")).toBe(LFS_JSON);
  const body = (await response.json()) as LfsError;
  expect(body).toMatchObject({ status, code, request_id: response.headers.get("x-request-id") });
  expect(body.message).toEqual(expect.any(String));
  expect(body.documentation_url).toBe(`${gateway.origin}/openapi.json`);
  return body;
}

/**
 * The Git LFS batch API and the action routes (PROTOCOL section 8) over real HTTP on each runtime, driven as git-lfs
 * 3.3.0 drives them: Basic auth on the batch, then the action hrefs with their headers and no Authorization.
 */
describe.each(RUNTIMES)("LFS batch and transfers on %s", (_runtime, start) => {
  const repo = "game-assets";
  let gateway: GatewayHarness;
  let write: LfsToken;
  let read: LfsToken;

  /** Uploads `bytes` to `repo` through a batch, its upload action and its verify action. */
  async function upload(bytes: Uint8Array<ArrayBuffer>, into = repo, token = write.token): Promise<void> {
    const answer = await batchOne(gateway, into, token, "upload", object(bytes));
    const put = await followAction(gateway, answer.actions!.upload!, "PUT", { body: bytes });
    expect(put.status, await put.clone().text()).toBe(200);
    expect((await followAction(gateway, answer.actions!.verify!, "POST", { body: JSON.stringify(object(bytes)) })).status).toBe(200);
  }

  /** The SHA-256 of what the download action serves: a deep equality of bytes is slow enough to outlast keep-alive. */
  async function download(bytes: Uint8Array, into = repo, token = read.token): Promise<string> {
    const answer = await batchOne(gateway, into, token, "download", object(bytes));
    const response = await followAction(gateway, answer.actions!.download!, "GET");
    expect(response.status).toBe(200);
    return sha256Hex(await bytesOf(response));
  }

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET, CHUNK_SIZE_BYTES: String(CHUNK), MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES) });
    [write, read] = await Promise.all([mintLfsToken(gateway, repo, "write"), mintLfsToken(gateway, repo, "read")]);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  describe("the batch request", () => {
    it("is 401 without credentials, with LFS-Authenticate and a git-lfs error body", async () => {
      const response = await batch(gateway, repo, null, { operation: "download", objects: [] });
      expect(response.headers.get("lfs-authenticate")).toBe('Basic realm="Verigate LFS"');
      await lfsError(gateway, response, 401, "unauthorized");
    });

    it("is 401 with a token of another repository", async () => {
      const other = await mintLfsToken(gateway, "other-repo", "write");
      await lfsError(gateway, await batch(gateway, repo, other.token, { operation: "download", objects: [] }), 401, "unauthorized");
    });

    it("takes a charset parameter and application/json, and refuses another Content-Type", async () => {
      const body = { operation: "download", objects: [] };
      expect((await batch(gateway, repo, read.token, body, { "content-type": `${LFS_JSON}; charset=utf-8` })).status).toBe(200);
      expect((await batch(gateway, repo, read.token, body, { "content-type": "application/json" })).status).toBe(200);
      await lfsError(gateway, await batch(gateway, repo, read.token, body, { "content-type": "text/plain" }), 400, "bad_request");
    });

    it("is 406 for an Accept naming no JSON", async () => {
      await lfsError(gateway, await batch(gateway, repo, read.token, { operation: "download", objects: [] }, { accept: "text/html" }), 406, "not_acceptable");
    });

    it("is 409 for a hash_algo other than sha256", async () => {
      const response = await batch(gateway, repo, read.token, { operation: "download", objects: [], hash_algo: "sha512" });
      await lfsError(gateway, response, 409, "unsupported_hash_algo");
    });

    it("is 413 above 100 objects, and answers 100", async () => {
      const objects = Array.from({ length: 101 }, (_, i) => ({ oid: sha256Hex(new Uint8Array([i])), size: 1 }));
      await lfsError(gateway, await batch(gateway, repo, read.token, { operation: "download", objects }), 413, "too_large");
      const answered = await batchObjects(gateway, repo, read.token, "download", objects.slice(0, 100));
      expect(answered.map((item) => item.error?.code)).toEqual(Array(100).fill(404));
    });

    it("is 403 for an upload with a read token", async () => {
      await lfsError(gateway, await batch(gateway, repo, read.token, { operation: "upload", objects: [object(randomBytes(10))] }), 403, "forbidden");
    });

    it("answers a bad oid or size with a 422 for that object alone, and a missing object with a 404", async () => {
      const missing = object(randomBytes(10));
      const answered = await batchObjects(gateway, repo, read.token, "download", [
        { oid: "../../etc/passwd", size: 1 },
        { oid: missing.oid.toUpperCase(), size: 1 },
        { oid: missing.oid, size: -1 },
        missing,
      ]);
      expect(answered.map((item) => item.error?.code)).toEqual([422, 422, 422, 404]);
      expect(answered.every((item) => item.actions === undefined)).toBe(true);
    });

    it("answers an upload too large for one request, with storage presign off, with a 422 naming the limit", async () => {
      const answer = await batchOne(gateway, repo, write.token, "upload", { oid: sha256Hex(new Uint8Array([1])), size: MAX_OBJECT_BYTES + 1 });
      expect(answer.error?.code).toBe(422);
      expect(answer.error?.message).toContain(String(MAX_OBJECT_BYTES));
    });
  });

  describe("transfers", () => {
    const bytes = randomBytes(3 * CHUNK + 123);

    beforeAll(async () => {
      await upload(bytes);
    });

    it("gives upload and verify actions that expire in an hour, authenticated, and commits the body", async () => {
      const fresh = randomBytes(CHUNK);
      const answer = await batchOne(gateway, repo, write.token, "upload", object(fresh));
      expect(answer.authenticated).toBe(true);
      expect(Object.keys(answer.actions!).sort()).toEqual(["upload", "verify"]);
      for (const action of Object.values(answer.actions!)) {
        expect(action.href.startsWith(`${gateway.origin}/lfs/${repo}/`)).toBe(true);
        expect(action.expires_in).toBe(3600);
        expect(Math.abs(Date.parse(action.expires_at) - Date.now() - 3600_000)).toBeLessThan(10_000);
        expect(action.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      }
      await lfsError(gateway, await followAction(gateway, answer.actions!.verify!, "POST"), 404, "not_found");
      expect((await followAction(gateway, answer.actions!.upload!, "PUT", { body: fresh })).status).toBe(200);
      expect((await followAction(gateway, answer.actions!.verify!, "POST")).status).toBe(200);
      expect(await download(fresh)).toBe(sha256Hex(fresh));
    });

    it("serves the download verified, and a Range of it for resume", async () => {
      expect(await download(bytes)).toBe(sha256Hex(bytes));
      const answer = await batchOne(gateway, repo, read.token, "download", object(bytes));
      const ranged = await followAction(gateway, answer.actions!.download!, "GET", { headers: { range: `bytes=${CHUNK + 5}-` } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get("content-range")).toBe(`bytes ${CHUNK + 5}-${bytes.length - 1}/${bytes.length}`);
      expect(sha256Hex(await bytesOf(ranged))).toBe(sha256Hex(bytes.subarray(CHUNK + 5)));
    });

    it("gives no actions for an upload of an object the repository holds", async () => {
      const answer = await batchOne(gateway, repo, write.token, "upload", object(bytes));
      expect(answer).toEqual(object(bytes));
    });

    it("answers a size that disagrees with the stored object with a 422 for that object", async () => {
      for (const operation of ["upload", "download"] as const) {
        const answer = await batchOne(gateway, repo, write.token, operation, { oid: sha256Hex(bytes), size: bytes.length + 1 });
        expect(answer.error?.code).toBe(422);
      }
    });

    it("commits nothing from a body that is not the oid's bytes, and takes one body per upload href", async () => {
      const wanted = randomBytes(CHUNK + 7);
      const answer = await batchOne(gateway, repo, write.token, "upload", object(wanted));
      const other = randomBytes(wanted.length);
      await lfsError(gateway, await followAction(gateway, answer.actions!.upload!, "PUT", { body: other }), 400, "digest_mismatch");
      expect((await batchOne(gateway, repo, read.token, "download", object(wanted))).error?.code).toBe(404);
      await lfsError(gateway, await followAction(gateway, answer.actions!.upload!, "PUT", { body: wanted }), 410, "link_used");
      await lfsError(gateway, await followAction(gateway, answer.actions!.verify!, "POST"), 404, "not_found");
    });

    it("refuses a Content-Length other than the object's size without spending the href", async () => {
      const wanted = randomBytes(100);
      const answer = await batchOne(gateway, repo, write.token, "upload", object(wanted));
      await lfsError(gateway, await followAction(gateway, answer.actions!.upload!, "PUT", { body: wanted.subarray(0, 99) }), 400, "bad_request");
      expect((await followAction(gateway, answer.actions!.upload!, "PUT", { body: wanted })).status).toBe(200);
    });

    it("refuses an expired action token", async () => {
      const claims = { op: "download" as const, repo, ...object(bytes), tid: read.id, exp: Math.floor(Date.now() / 1000) - 5 };
      const manifest = (await gateway.kv.get(`obj:lfs/${repo}/${sha256Hex(bytes)}`, "json")) as { version: string };
      const token = await issueActionToken({ ...claims, version: manifest.version }, PRESIGN_SECRET);
      await lfsError(gateway, await lfsFetch(gateway, `/lfs/${repo}/download/${token}`), 410, "link_expired");
      const live = await issueActionToken({ ...claims, version: manifest.version, exp: claims.exp + 600 }, PRESIGN_SECRET);
      expect((await lfsFetch(gateway, `/lfs/${repo}/download/${live}`)).status).toBe(200);
    });

    it("serves a pinned version only when it is the oid's bytes, whatever the token says", async () => {
      const wanted = randomBytes(CHUNK);
      const key = `lfs/${repo}/${sha256Hex(wanted)}`;
      expect((await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body: randomBytes(wanted.length) })).status).toBe(201);
      const { version } = (await gateway.kv.get(`obj:${key}`, "json")) as { version: string };
      const claims = { op: "download" as const, repo, ...object(wanted), tid: read.id, exp: Math.floor(Date.now() / 1000) + 600, version };
      await lfsError(gateway, await lfsFetch(gateway, `/lfs/${repo}/download/${await issueActionToken(claims, PRESIGN_SECRET)}`), 404, "not_found");
    });

    it("stops the action hrefs of a revoked LFS token", async () => {
      const doomed = await mintLfsToken(gateway, repo, "read");
      const answer = await batchOne(gateway, repo, doomed.token, "download", object(bytes));
      expect((await followAction(gateway, answer.actions!.download!, "HEAD")).status).toBe(200);
      await revokeLfsToken(gateway, doomed.id);
      await lfsError(gateway, await followAction(gateway, answer.actions!.download!, "GET"), 410, "link_revoked");
    });

    it("never serves one repository's object through another: not by batch, not by an href moved to its path", async () => {
      const elsewhere = await mintLfsToken(gateway, "other-game", "read");
      expect((await batchOne(gateway, "other-game", elsewhere.token, "download", object(bytes))).error?.code).toBe(404);
      const answer = await batchOne(gateway, repo, read.token, "download", object(bytes));
      const moved = answer.actions!.download!.href.replace(`/lfs/${repo}/`, "/lfs/other-game/");
      await lfsError(gateway, await lfsFetch(gateway, moved), 404, "not_found");
    });

    it("does not serve an object planted under lfs/<repo>/<oid> with other bytes, and replaces it on upload", async () => {
      const real = randomBytes(CHUNK + 1);
      const planted = await gateway.signedFetch("PUT", `/v1/objects/lfs/${repo}/${sha256Hex(real)}`, { body: randomBytes(real.length) });
      expect(planted.status).toBe(201);
      expect((await batchOne(gateway, repo, read.token, "download", object(real))).error?.code).toBe(404);
      await upload(real);
      expect(await download(real)).toBe(sha256Hex(real));
    });

    it("refuses a download of a blob altered in storage", async () => {
      const victim = randomBytes(2 * CHUNK);
      await upload(victim);
      const manifest = (await gateway.kv.get(`obj:lfs/${repo}/${sha256Hex(victim)}`, "json")) as { blob: string };
      const tampered = victim.slice();
      tampered[10] = tampered[10]! ^ 0xff;
      await gateway.bucket.put(manifest.blob, tampered);
      const answer = await batchOne(gateway, repo, read.token, "download", object(victim));
      await lfsError(gateway, await followAction(gateway, answer.actions!.download!, "GET"), 502, "integrity_failure");
    });

    it("logs action hrefs by a hash of their token", async () => {
      const answer = await batchOne(gateway, repo, read.token, "download", object(bytes));
      const token = answer.actions!.download!.href.split("/").pop()!;
      const after = gateway.logs().length;
      await lfsError(gateway, await lfsFetch(gateway, `/lfs/${repo}/download/${token}x`), 404, "not_found");
      const line = await gateway.waitForEvent("request_failed", (event) => String(event.path).startsWith(`/lfs/${repo}/download/`), after);
      expect(line.path).toMatch(new RegExp(`^/lfs/${repo}/download/sha256:[0-9a-f]{16}$`));
      expect(JSON.stringify(gateway.logs())).not.toContain(token);
    });
  });
});
