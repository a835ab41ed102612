import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalAws } from "../../scripts/local-aws.ts";
import { signRequest } from "../../shared/signature/index.ts";
import { newEd25519Key } from "../support/keys.ts";
import { randomBytes } from "./support/bytes.ts";

const NAME = "verigate-serve-node";

interface Started {
  event: string;
  origin: string;
  runtime: string;
  problems: string[];
}

/**
 * docs/OPERATIONS.md's recipe: `scripts/serve-node.ts` against an S3 endpoint and a DynamoDB endpoint, configured by
 * the documented variables alone (nothing else is inherited but PATH), so a renamed or newly required variable fails here.
 */
describe("scripts/serve-node.ts", () => {
  let directory: string;
  let local: Awaited<ReturnType<typeof startLocalAws>>;
  let child: ChildProcess;
  let origin: string;
  let started: Started;
  let sign: (method: string, path: string, body?: Uint8Array) => Promise<Record<string, string>>;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "verigate-serve-node-"));
    local = await startLocalAws({ bucket: NAME, table: NAME, s3Directory: directory });
    const key = await newEd25519Key();
    sign = async (method, path, body) =>
      (await signRequest({ method, url: `${origin}${path}`, keyid: "ops", key: { alg: "ed25519", privateKey: key.privateKey }, ...(body ? { body } : {}) }))
        .headers;
    child = spawn(process.execPath, ["scripts/serve-node.ts"], {
      env: { PATH: process.env.PATH, ...local.vars, ADMIN_KEYS: `ops=${key.publicKey}`, PRESIGN_SECRET: "p".repeat(32), PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), "line")) as [string];
    started = JSON.parse(line) as Started;
    origin = started.origin;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await local?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it("logs gateway_started with no problems, on loopback", () => {
    expect(started).toMatchObject({ event: "gateway_started", runtime: "node", problems: [] });
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("answers /healthz with the S3 and DynamoDB backends", async () => {
    const health = await (await fetch(`${origin}/healthz`)).json();
    expect(health).toMatchObject({ status: "ok", runtime: "node", storage: { backend: "s3" }, replay_store: { backend: "dynamodb", atomic: true } });
  });

  it("serves a signed whoami, put and verified get for the ADMIN_KEYS key", async () => {
    const whoami = await fetch(`${origin}/v1/whoami`, { headers: await sign("GET", "/v1/whoami") });
    expect(await whoami.json()).toMatchObject({ keyid: "ops", admin: true });

    const body = randomBytes(100_000);
    const put = await fetch(`${origin}/v1/objects/ops/check.bin`, { method: "PUT", body, headers: await sign("PUT", "/v1/objects/ops/check.bin", body) });
    expect(put.status).toBe(201);
    const get = await fetch(`${origin}/v1/objects/ops/check.bin`, { headers: await sign("GET", "/v1/objects/ops/check.bin") });
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(body);
  });

  it("exits cleanly on SIGTERM", async () => {
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
  });
});
