import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MIB } from "../../shared/bytes.ts";
import { generateEd25519Key } from "../../client/sdk/keys.ts";
import { EXIT_INTEGRITY, EXIT_USAGE } from "../../client/cli/exit-codes.ts";

const BIN = new URL("../../client/cli/bin.mjs", import.meta.url).pathname;
const OBJECT = randomBytes(300_000);
const OTHER = randomBytes(OBJECT.length);
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest();

/** Integrity headers as the gateway sends them, naming `named` whatever the body is. */
function objectHeaders(named: Buffer, length = named.length): Record<string, string> {
  return {
    "content-length": String(length),
    "content-type": "application/octet-stream",
    etag: `"${sha256(named).toString("hex")}"`,
    "repr-digest": `sha-256=:${sha256(named).toString("base64")}:`,
  };
}

/**
 * A stand-in for a gateway that misbehaves in ways the real one never does (it only sends verified bytes),
 * or for the object storage behind a storage-mode link: the client's own checks must catch each case.
 */
function misbehave(request: IncomingMessage, response: ServerResponse, origin: string): void {
  const route = `${request.method} ${request.url}`;
  switch (route) {
    case "GET /v1/objects/good":
      response.writeHead(200, objectHeaders(OBJECT)).end(OBJECT);
      return;
    case "GET /v1/objects/lying":
      response.writeHead(200, objectHeaders(OTHER)).end(OBJECT);
      return;
    case "GET /v1/objects/short":
      response.writeHead(200, objectHeaders(OBJECT));
      response.write(OBJECT.subarray(0, OBJECT.length / 2), () => response.destroy());
      return;
    case "GET /v1/objects/undigested":
      response.writeHead(200, { "content-length": String(OBJECT.length) }).end(OBJECT);
      return;
    case "GET /storage/blob":
      // Object storage answers with its own headers only: the presign integrity block is all there is to check.
      response.writeHead(200, { "content-length": String(OBJECT.length) }).end(OBJECT);
      return;
    case "POST /v1/presign": {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        const { key } = JSON.parse(body) as { key: string };
        const vouched = key === "good" ? OBJECT : OTHER;
        response.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            url: `${origin}/storage/blob`,
            method: "GET",
            mode: "storage",
            expires_at: new Date(Date.now() + 60_000).toISOString(),
            integrity: { sha256: sha256(vouched).toString("hex"), size: vouched.length, chunk_size: MIB },
          }),
        );
      });
      return;
    }
    default:
      response.writeHead(404).end();
  }
}

describe("verigate get and presign -o verify what they write", () => {
  let server: Server;
  let origin: string;
  let root: string;
  let dir: string;
  let keyPath: string;

  function verigate(args: string[]): Promise<{ code: number; stderr: string }> {
    const env = { ...process.env, VERIGATE_ENDPOINT: origin, VERIGATE_KEY: keyPath };
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: dir, env }, (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }));
    });
  }

  beforeAll(async () => {
    server = createServer((request, response) => misbehave(request, response, origin));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    root = await mkdtemp(join(tmpdir(), "verigate-download-"));
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(root, "case-"));
    keyPath = join(dir, "key.jwk");
    await writeFile(keyPath, JSON.stringify((await generateEd25519Key()).jwk), { mode: 0o600 });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  /** The directory holds only the key and `target` as it was before: no partial or temporary file. */
  async function expectUntouched(target: string, before: string): Promise<void> {
    expect((await readdir(dir)).sort()).toEqual(["key.jwk", "target.bin"]);
    expect(await readFile(target, "utf8")).toBe(before);
  }

  it("writes a verified object", async () => {
    expect(await verigate(["get", "good", "-o", "target.bin"])).toMatchObject({ code: 0, stderr: "" });
    expect((await readFile(join(dir, "target.bin"))).equals(OBJECT)).toBe(true);
  });

  it("exits 3 and leaves the existing file untouched when the bytes do not match the announced digest", async () => {
    await writeFile(join(dir, "target.bin"), "previous version");
    const result = await verigate(["get", "lying", "-o", "target.bin"]);
    expect(result.code).toBe(EXIT_INTEGRITY);
    expect(result.stderr).toContain("digest_mismatch");
    await expectUntouched(join(dir, "target.bin"), "previous version");
  });

  it("exits 3 and leaves the existing file untouched when the response ends short of its Content-Length, keeping what arrived only as target.bin.partial", async () => {
    await writeFile(join(dir, "target.bin"), "previous version");
    const result = await verigate(["get", "short", "-o", "target.bin"]);
    expect(result.code).toBe(EXIT_INTEGRITY);
    expect(result.stderr).toContain("short_response");
    expect(result.stderr).toContain("bytes kept in target.bin.partial: run the same command again to resume");
    expect((await readdir(dir)).sort()).toEqual(["key.jwk", "target.bin", "target.bin.partial", "target.bin.partial.json"]);
    expect(await readFile(join(dir, "target.bin"), "utf8")).toBe("previous version");
    const kept = await readFile(join(dir, "target.bin.partial"));
    expect(kept.equals(OBJECT.subarray(0, kept.length))).toBe(true);
  });

  it("refuses to overwrite a target.bin.partial it did not write: exit 1, the file untouched", async () => {
    await writeFile(join(dir, "target.bin.partial"), "someone else's");
    const result = await verigate(["get", "good", "-o", "target.bin"]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("target.bin.partial exists and is no download verigate can continue");
    expect(await readFile(join(dir, "target.bin.partial"), "utf8")).toBe("someone else's");
    expect((await readdir(dir)).sort()).toEqual(["key.jwk", "target.bin.partial"]);
  });

  it("exits 3 without writing when the response carries no digest to verify against", async () => {
    await writeFile(join(dir, "target.bin"), "previous version");
    const result = await verigate(["get", "undigested", "-o", "target.bin"]);
    expect(result.code).toBe(EXIT_INTEGRITY);
    expect(result.stderr).toContain("unverifiable");
    await expectUntouched(join(dir, "target.bin"), "previous version");
  });

  it("verifies a storage-mode download against the presign integrity block", async () => {
    expect(await verigate(["presign", "good", "--storage", "-o", "target.bin"])).toMatchObject({ code: 0 });
    expect((await readFile(join(dir, "target.bin"))).equals(OBJECT)).toBe(true);

    await writeFile(join(dir, "target.bin"), "previous version");
    const refused = await verigate(["presign", "bad", "--storage", "-o", "target.bin"]);
    expect(refused.code).toBe(EXIT_INTEGRITY);
    expect(refused.stderr).toContain("digest_mismatch");
    await expectUntouched(join(dir, "target.bin"), "previous version");
  });
});
