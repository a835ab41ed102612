/**
 * Child process of `npm run bench`: the shipped Lambda handler, bundled as `npm run build:lambda` bundles it, behind
 * the loopback Function URL (`scripts/lambda-function-url.ts`, a process of its own so the function's environment is
 * `BENCH_VARS` alone, as on Lambda). Each concurrent request gets an execution environment of its own, which later
 * requests reuse, as Lambda does. Prints `{"ready": {"origin", "functionPid"}}`, stops on SIGTERM.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLambda } from "../../scripts/lambda-bundle.ts";

const FUNCTION_URL = fileURLToPath(new URL("../../scripts/lambda-function-url.ts", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

const vars = JSON.parse(process.env.BENCH_VARS ?? "{}") as Record<string, string>;
const dir = await mkdtemp(join(tmpdir(), "verigate-bench-lambda-"));
const { outfile } = await buildLambda(join(dir, "index.mjs"));
const port = await freePort();
// The function sees only what a deployed one would: its variables, not this benchmark's environment.
const functionUrl = spawn(process.execPath, [FUNCTION_URL, outfile, String(port)], { env: vars, stdio: ["ignore", "ignore", "inherit", "ipc"] });
await new Promise<void>((resolve, reject) => {
  functionUrl.once("message", () => resolve());
  functionUrl.once("exit", (code) => reject(new Error(`the Function URL exited (${code}) before listening`)));
});

process.once("SIGTERM", () => {
  functionUrl.once("exit", () => void rm(dir, { recursive: true, force: true }).then(() => process.exit(0)));
  functionUrl.kill("SIGTERM");
});
console.log(JSON.stringify({ ready: { origin: `http://127.0.0.1:${port}`, functionPid: functionUrl.pid } }));
