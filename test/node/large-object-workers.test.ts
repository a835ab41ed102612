import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerigateClient } from "../../client/sdk/client.ts";
import { generateEd25519Key, importJwk } from "../../client/sdk/keys.ts";
import { GIB, MIB } from "../../shared/bytes.ts";
import type { Manifest } from "../../shared/objects/manifest.ts";
import { runCli } from "./support/cli-runner.ts";
import { startWorkersGateway, type WorkersGateway } from "./support/workers-gateway.ts";

/** Issue 12's size: twice what a Workers Business plan lets one request carry, twenty times MAX_OBJECT_BYTES. */
const SIZE = 2 * GIB;
const KEY = "large/two-gib.bin";
/** Mid-object, not chunk-aligned, spanning a chunk boundary: a Range read that needs one level-0 page of the tree. */
const RANGE = { offset: GIB + 12_345, length: 3 * MIB };
/** A CLI transfer of 2 GiB through workerd on this 2-core machine takes tens of seconds each way. */
const TRANSFER_TIMEOUT_MS = 240_000;

/** Writes `size` incompressible bytes (an AES-CTR keystream) to `path` piece by piece; their SHA-256. */
async function writeLargeFile(path: string, size: number): Promise<string> {
  const cipher = createCipheriv("aes-128-ctr", randomBytes(16), randomBytes(16));
  const hash = createHash("sha256");
  const out = createWriteStream(path);
  const zeros = Buffer.alloc(8 * MIB);
  for (let written = 0; written < size; written += zeros.length) {
    const piece = cipher.update(zeros.subarray(0, Math.min(zeros.length, size - written)));
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return hash.digest("hex");
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const piece of createReadStream(path, { highWaterMark: 8 * MIB })) hash.update(piece as Buffer);
  return hash.digest("hex");
}

async function fileBytes(path: string, offset: number, length: number): Promise<Buffer> {
  const file = await open(path);
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * Issue 12: a multi-gigabyte object through `verigate` on the Workers build with the configuration it ships with (no
 * raised limit): `put` goes through an upload session on its own, the object comes back byte-identical, its manifest
 * holds a digest tree instead of 2,048 inline digests, and a Range read in the middle is verified through the tree.
 */
describe("a 2 GiB object through the CLI on the Workers build, default configuration", () => {
  let gateway: WorkersGateway;
  let dir: string;
  let env: Record<string, string>;
  let user: VerigateClient;
  let sha256: string;

  beforeAll(async () => {
    gateway = await startWorkersGateway();
    dir = await mkdtemp(join(tmpdir(), "verigate-2gib-"));
    const admin = new VerigateClient({ endpoint: gateway.origin, key: { keyid: gateway.admin.keyid, signingKey: gateway.admin.key } });
    const { jwk } = await generateEd25519Key();
    await admin.keys.create({ keyid: jwk.kid, alg: "ed25519", public_key: jwk.x, scopes: [{ prefix: "large/", actions: ["read", "write"] }] });
    user = new VerigateClient({ endpoint: gateway.origin, key: await importJwk(jwk) });
    await writeFile(join(dir, "key.jwk"), JSON.stringify(jwk), { mode: 0o600 });
    env = { VERIGATE_ENDPOINT: gateway.origin, VERIGATE_KEY: join(dir, "key.jwk"), XDG_CONFIG_HOME: join(dir, "config") };
    sha256 = await writeLargeFile(join(dir, "big.bin"), SIZE);
  }, TRANSFER_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    "goes up through an upload session and is committed with a digest tree in its manifest",
    async () => {
      const put = await runCli(["put", "big.bin", KEY, "--json"], { cwd: dir, env });
      expect(put.code, put.stderr).toBe(0);
      expect(JSON.parse(put.stdout)).toMatchObject({ key: KEY, size: SIZE, sha256 });
      const manifest = JSON.parse((await gateway.kv.get(`obj:${KEY}`)) ?? "null") as Manifest | null;
      expect(manifest).toMatchObject({ size: SIZE, sha256, chunk_size: MIB, tree: { fanout: 1024 } });
      expect(manifest).not.toHaveProperty("chunks");
    },
    TRANSFER_TIMEOUT_MS,
  );

  it("serves a Range in the middle, verified through the tree", async () => {
    const { response } = await user.getObject(KEY, { range: RANGE });
    expect(response.status).toBe(206);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(await fileBytes(join(dir, "big.bin"), RANGE.offset, RANGE.length))).toBe(true);
  });

  it(
    "comes back through `verigate get` byte-identical",
    async () => {
      const got = await runCli(["get", KEY, "-o", "copy.bin"], { cwd: dir, env });
      expect(got.code, got.stderr).toBe(0);
      expect(await fileSha256(join(dir, "copy.bin"))).toBe(sha256);
    },
    TRANSFER_TIMEOUT_MS,
  );
});
