import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toBase64 } from "../../shared/crypto/encoding.ts";
import type { AwsGateway } from "./support/aws-stores.ts";
import { bytesOf, randomBytes, sha256Hex } from "./support/bytes.ts";
import { batchOne, followAction, LFS_JSON, type LfsAction, type LfsToken, mintLfsToken } from "./support/lfs-client.ts";
import { AWS_RUNTIMES } from "./support/runtimes.ts";

const CHUNK = 64 * 1024;
const PRESIGN_SECRET = "presign-secret-for-the-lfs-storage-uploads-0123456789";
/** Small, so a 1 MiB object already goes straight to storage (on Lambda the payload cap plays this part). */
const MAX_OBJECT_BYTES = 256 * 1024;
/** Verifies of one upload sent at once: all must answer 200, and exactly one commit. */
const CONCURRENT_VERIFIES = 5;
/** How long a second commit's log line would trail the answers (the Lambda function's stdout reaches the test through a pipe). */
const LOG_SETTLE_MS = 500;

function object(bytes: Uint8Array): { oid: string; size: number } {
  return { oid: sha256Hex(bytes), size: bytes.length };
}

/** PUTs `body` to a presigned storage action with the headers it names, as git-lfs does (fetch sets Content-Length itself). */
async function putToStorage(action: LfsAction, body: Uint8Array<ArrayBuffer>): Promise<Response> {
  const { "content-length": _length, ...headers } = action.header ?? {};
  return fetch(action.href, { method: "PUT", headers: { ...headers, "content-type": "application/octet-stream" }, body });
}

/** The blob key a presigned storage URL writes (path-style: `/<bucket>/<key>`). */
function blobKeyOf(href: string): string {
  return new URL(href).pathname.split("/").slice(2).join("/");
}

/**
 * LFS uploads above one request (PROTOCOL section 8) on the AWS builds with `PRESIGN_STORAGE=on` against s3rver: a
 * presigned storage PUT bound to the oid by signed checksum headers, then the verify action, which reads the stored
 * bytes back and commits only when they hash to the oid. s3rver checks neither the signature nor the checksum, so
 * the gateway's own hashing is all that stands between other bytes and a commit here.
 */
describe.each(AWS_RUNTIMES)("LFS storage uploads on %s", (_runtime, start) => {
  const repo = "textures";
  let gateway: AwsGateway;
  let write: LfsToken;

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET, PRESIGN_STORAGE: "on", CHUNK_SIZE_BYTES: String(CHUNK), MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES) });
    write = await mintLfsToken(gateway, repo, "write");
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("hands out a presigned PUT bound to the oid, and commits the object only once verify hashed it (once, under concurrent verifies)", async () => {
    const bytes = randomBytes(16 * CHUNK + 5);
    const answer = await batchOne(gateway, repo, write.token, "upload", object(bytes));
    const { upload, verify } = answer.actions as Record<string, LfsAction>;
    expect(upload!.href.startsWith(gateway.s3Endpoint)).toBe(true);
    expect(new URL(upload!.href).searchParams.get("X-Amz-SignedHeaders")?.split(";")).toEqual(["content-length", "host", "x-amz-checksum-sha256"]);
    expect(upload!.header).toEqual({ "x-amz-checksum-sha256": toBase64(Buffer.from(sha256Hex(bytes), "hex")), "content-length": String(bytes.length) });
    expect(verify!.href.startsWith(`${gateway.origin}/lfs/${repo}/verify/`)).toBe(true);

    expect((await followAction(gateway, verify!, "POST")).status).toBe(404);
    expect((await putToStorage(upload!, bytes)).status).toBe(200);
    // Stored but not verified: neither LFS nor the object routes know it.
    expect((await batchOne(gateway, repo, write.token, "download", object(bytes))).error?.code).toBe(404);
    expect((await gateway.signedFetch("GET", `/v1/objects/lfs/${repo}/${sha256Hex(bytes)}`)).status).toBe(404);

    const after = gateway.logs().length;
    const verifies = await Promise.all(Array.from({ length: CONCURRENT_VERIFIES }, () => followAction(gateway, verify!, "POST")));
    expect(verifies.map((response) => response.status)).toEqual(Array(CONCURRENT_VERIFIES).fill(200));
    expect(verifies[0]!.headers.get("content-type")).toBe(LFS_JSON);
    const isCommit = (line: { event: string; oid?: unknown }) => line.event === "lfs_object_committed" && line.oid === sha256Hex(bytes);
    await gateway.waitForEvent("lfs_object_committed", (line) => line.oid === sha256Hex(bytes), after);
    await new Promise((resolve) => setTimeout(resolve, LOG_SETTLE_MS));
    expect(gateway.logs().slice(after).filter(isCommit)).toHaveLength(1);

    const download = await batchOne(gateway, repo, write.token, "download", object(bytes));
    const served = await followAction(gateway, download.actions!.download!, "GET");
    expect(served.status).toBe(200);
    // Compared by digest: a deep equality of a MiB takes seconds, past the server's keep-alive.
    expect(sha256Hex(await bytesOf(served))).toBe(sha256Hex(bytes));
    expect(await batchOne(gateway, repo, write.token, "upload", object(bytes))).toEqual(object(bytes));
  });

  it("commits nothing from stored bytes that are not the object, and removes them", async () => {
    const bytes = randomBytes(8 * CHUNK);
    const answer = await batchOne(gateway, repo, write.token, "upload", object(bytes));
    const { upload, verify } = answer.actions as Record<string, LfsAction>;
    const other = bytes.slice();
    other[bytes.length - 1] = other[bytes.length - 1]! ^ 1;
    expect((await putToStorage(upload!, other)).status).toBe(200);
    const refused = await followAction(gateway, verify!, "POST");
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe("digest_mismatch");
    expect((await batchOne(gateway, repo, write.token, "download", object(bytes))).error?.code).toBe(404);
    expect(await gateway.bucket.get(blobKeyOf(upload!.href))).toBeNull();
  });

  it("refuses a verify whose stored object has another size", async () => {
    const bytes = randomBytes(5 * CHUNK);
    const answer = await batchOne(gateway, repo, write.token, "upload", object(bytes));
    const { upload, verify } = answer.actions as Record<string, LfsAction>;
    expect((await putToStorage(upload!, bytes.subarray(0, bytes.length - 1).slice())).status).toBe(200);
    expect((await followAction(gateway, verify!, "POST")).status).toBe(400);
    expect((await batchOne(gateway, repo, write.token, "download", object(bytes))).error?.code).toBe(404);
  });
});
