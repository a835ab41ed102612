/**
 * `npm run demo`: a scripted tour against a throwaway local gateway (wrangler dev, fresh state and key).
 * Every line it prints under a `$` is a real command and its real output. It exits non-zero if the gateway
 * does not behave as the tour says: an upload and verified download, a shared link fetched with curl, a
 * tampered blob refused, and a replayed request rejected.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { VerigateClient, importJwk } from "../client/sdk/index.ts";
import { startWranglerDev } from "../test/node/support/wrangler-dev.ts";
import { MIB } from "../shared/bytes.ts";
import { toBase64Url, toHex } from "../shared/crypto/encoding.ts";
import { ensureDevKey } from "./dev-key.ts";

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), "verigate-demo-"));
const state = join(dir, "state");
const keyPath = join(dir, "admin.jwk");
const { jwk } = await ensureDevKey(keyPath);
const presignSecret = toBase64Url(randomBytes(32));
const server = await startWranglerDev(["--var", `ADMIN_KEYS:${jwk.kid}=${jwk.x}`, "--var", `PRESIGN_SECRET:${presignSecret}`], state);
const env = { ...process.env, VERIGATE_ENDPOINT: server.origin, VERIGATE_KEY: keyPath };
let failures = 0;

function show(command: string, output: string): void {
  console.log(`$ ${command}`);
  if (output.trim()) console.log(output.trimEnd());
  console.log();
}

function expectThat(ok: boolean, what: string): void {
  console.log(ok ? `  ok: ${what}\n` : `  UNEXPECTED: ${what}\n`);
  if (!ok) failures++;
}

/** Runs a command in `dir`, shows it as typed, and returns its exit code and combined output. */
async function sh(display: string, file: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: dir, env, maxBuffer: 16 * MIB });
    show(display, stdout + stderr);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    const output = `${failed.stdout ?? ""}${failed.stderr ?? ""}`;
    show(`${display}    # exit ${failed.code}`, output);
    return { code: typeof failed.code === "number" ? failed.code : 1, output };
  }
}

const cli = join(process.cwd(), "client/cli/bin.mjs");
const wrangler = join(process.cwd(), "node_modules/.bin/wrangler");
const verigate = (args: string[]) => sh(`verigate ${args.join(" ")}`, process.execPath, [cli, ...args]);
const sha256 = (bytes: Uint8Array) => toHex(createHash("sha256").update(bytes).digest());

try {
  console.log(`Verigate demo: a gateway under wrangler dev at ${server.origin}, state in ${state}\n`);
  await verigate(["whoami"]);

  const original = randomBytes(3 * MIB);
  await writeFile(join(dir, "weights.bin"), original);
  console.log(`(weights.bin: 3 MiB of random bytes, sha256 ${sha256(original)})\n`);
  await verigate(["put", "weights.bin", "models/weights.bin"]);
  const got = await verigate(["get", "models/weights.bin", "-o", "copy.bin"]);
  expectThat(got.code === 0 && sha256(await readFile(join(dir, "copy.bin"))) === sha256(original), "the download is byte-identical");

  const link = await verigate(["presign", "models/weights.bin", "--expires", "300"]);
  const url =
    link.output
      .split("\n")
      .find((line) => line.includes("/v1/dl/"))
      ?.trim() ?? "";
  const curlGood = await sh(`curl -s -o shared.bin -w '%{http_code}\\n' '${url}'`, "curl", ["-s", "-o", "shared.bin", "-w", "%{http_code}\n", url]);
  expectThat(
    curlGood.output.trim() === "200" && sha256(await readFile(join(dir, "shared.bin"))) === sha256(original),
    "curl fetched the same bytes without any key",
  );

  console.log("Now an attacker with write access to the bucket flips one byte of the stored blob:\n");
  const manifest = JSON.parse(
    (await run(wrangler, ["kv", "key", "get", "--binding", "META", "obj:models/weights.bin", "--local", "--persist-to", state])).stdout,
  ) as { blob: string };
  const altered = Buffer.from(original);
  altered[10] = (altered[10] ?? 0) ^ 0xff;
  await writeFile(join(dir, "altered.bin"), altered);
  await sh(`wrangler r2 object put verigate-objects/${manifest.blob} --file altered.bin --local`, wrangler, [
    "r2",
    "object",
    "put",
    `verigate-objects/${manifest.blob}`,
    "--file",
    join(dir, "altered.bin"),
    "--local",
    "--persist-to",
    state,
  ]);
  const refused = await verigate(["get", "models/weights.bin", "-o", "tampered.bin"]);
  expectThat(refused.code === 3, "the CLI refuses the tampered object (exit 3) and writes nothing");
  const curlBad = await sh(`curl -s '${url}'`, "curl", ["-s", url]);
  expectThat(curlBad.output.includes('"code":"integrity_failure"'), "the link answers 502 integrity_failure instead of the altered bytes");

  console.log("Finally, a captured signed request sent a second time:\n");
  const client = new VerigateClient({ endpoint: server.origin, key: await importJwk(jwk) });
  const captured = await client.prepare("GET", "/v1/whoami");
  const headerArgs = Object.entries(captured.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const first = await sh("curl -s <captured signed request>", "curl", ["-s", ...headerArgs, captured.url]);
  const second = await sh("curl -s <the same request again>", "curl", ["-s", ...headerArgs, captured.url]);
  expectThat(first.output.includes(jwk.kid) && second.output.includes('"code":"replayed_request"'), "the replay is rejected with 401 replayed_request");
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
console.log(failures === 0 ? "Demo finished: every step behaved as described." : `Demo finished with ${failures} unexpected result(s).`);
process.exitCode = failures === 0 ? 0 : 1;
