import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEd25519Key } from "../../client/sdk/keys.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

const EXAMPLE = new URL("../../examples/python_client.py", import.meta.url).pathname;
const run = promisify(execFile);

/** Why the example cannot run here, or undefined when python3 and its `cryptography` package are installed. */
function pythonMissing(): string | undefined {
  const probe = spawnSync("python3", ["-c", "import cryptography"], { encoding: "utf8" });
  if (probe.error) return "no python3 on PATH";
  return probe.status === 0 ? undefined : "python3 has no cryptography package (CI installs Debian's python3-cryptography)";
}

const missing = pythonMissing();
const runsHere = missing === undefined ? it : it.skip;

/** examples/python_client.py, a client outside JavaScript, against the real gateway of each runtime. */
describe.each(RUNTIMES)("the Python example against the %s gateway", (_runtime, start) => {
  let gateway: GatewayHarness;
  let dir: string;
  let keyPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-python-"));
    gateway = await start();
    // A key file as `verigate keygen` writes it, registered by the harness's admin with a scope of its own.
    const { jwk } = await generateEd25519Key("python-client");
    keyPath = join(dir, "python.jwk");
    await writeFile(keyPath, JSON.stringify(jwk), { mode: 0o600 });
    const scopes = [{ prefix: "py/", actions: ["read", "write"] }];
    const body = new TextEncoder().encode(JSON.stringify({ keyid: jwk.kid, alg: "ed25519", public_key: jwk.x, scopes }));
    const registered = await gateway.signedFetch("POST", "/v1/keys", { body, headers: { "content-type": "application/json" } });
    expect(registered.status).toBe(201);
  });

  afterAll(async () => {
    await gateway?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  runsHere(`signs a whoami, a PUT with Content-Digest and a GET it verifies${missing ? ` (skipped: ${missing})` : ""}`, async () => {
    const objectKey = "py/dir with space/über.txt";
    const { stdout } = await run("python3", [EXAMPLE, objectKey], { env: { ...process.env, VERIGATE_ENDPOINT: gateway.origin, VERIGATE_KEY: keyPath } });
    const [whoami = "", put = "", get = ""] = stdout.trimEnd().split("\n");
    expect(JSON.parse(whoami.replace("GET /v1/whoami: 200 ", ""))).toMatchObject({ keyid: "python-client", alg: "ed25519", admin: false });
    expect(put.startsWith(`PUT ${objectKey}: 201 `)).toBe(true);
    const stored = JSON.parse(put.slice(`PUT ${objectKey}: 201 `.length)) as { sha256: string; size: number };
    expect(get).toBe(`GET ${objectKey}: 200, ${stored.size} bytes, Repr-Digest verified`);

    // What the gateway holds is what Python sent, read back by another client.
    const path = `/v1/objects/${objectKey.split("/").map(encodeURIComponent).join("/")}`;
    const object = await gateway.signedFetch("GET", path);
    expect(object.status).toBe(200);
    expect(object.headers.get("etag")).toBe(`"${stored.sha256}"`);
    expect(await object.text()).toMatch(/^hello from Python, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
  });

  runsHere(`exits non-zero with the gateway's problem when a signed request is refused${missing ? ` (skipped: ${missing})` : ""}`, async () => {
    const outside = await run("python3", [EXAMPLE, "not-py/x.txt"], {
      env: { ...process.env, VERIGATE_ENDPOINT: gateway.origin, VERIGATE_KEY: keyPath },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(outside).toMatchObject({ code: 1 });
    expect((outside as { stderr: string }).stderr).toMatch(/^PUT .*not-py\/x\.txt: 403 .*"code":"forbidden"/);
  });
});
