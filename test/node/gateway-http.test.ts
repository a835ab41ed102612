import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../shared/signature/index.ts";
import { type DevServer, startWranglerDev } from "./support/wrangler-dev.ts";

const run = promisify(execFile);

/** The real gateway under `wrangler dev`, configured by `--var` alone, driven over real HTTP on loopback. */
describe("the gateway under wrangler dev", () => {
  let server: DevServer;
  let dir: string;
  let keyPath: string;
  let privateKey: CryptoKey;
  const keyid = "e2e-admin";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-e2e-"));
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    privateKey = pair.privateKey;
    const jwk = { ...((await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey), kid: keyid };
    keyPath = join(dir, "key.jwk");
    await writeFile(keyPath, JSON.stringify(jwk), { mode: 0o600 });
    server = await startWranglerDev(["--var", `ADMIN_KEYS:${keyid}=${jwk.x}`], join(dir, "state"));
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves /healthz without authentication", async () => {
    const response = await fetch(`${server.origin}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", runtime: "workers", replay_store: { backend: "durable-object", atomic: true } });
  });

  it("answers the README's signed whoami script", async () => {
    const { stdout } = await run("node", ["examples/whoami.ts"], { env: { ...process.env, VERIGATE_ENDPOINT: server.origin, VERIGATE_KEY: keyPath } });
    expect(stdout.startsWith("200 ")).toBe(true);
    expect(JSON.parse(stdout.slice(4))).toMatchObject({ keyid, admin: true });
  });

  it("rejects a captured request replayed over the wire", async () => {
    const url = `${server.origin}/v1/whoami`;
    const { headers } = await signRequest({ method: "GET", url, keyid, key: { alg: "ed25519", privateKey } });
    expect((await fetch(url, { headers })).status).toBe(200);
    const replay = await fetch(url, { headers });
    expect(replay.status).toBe(401);
    expect(replay.headers.get("content-type")).toBe("application/problem+json");
    expect(await replay.json()).toMatchObject({ code: "replayed_request" });
  });
});
