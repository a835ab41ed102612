/**
 * `npm run check:deploy`: both deployments build, offline. `wrangler deploy --dry-run` bundles the worker
 * exactly as a deploy would; the Lambda tests build dist/lambda's bundle, answer Function URL events with it,
 * and check deploy/template.yaml against the code.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LAMBDA_TESTS = ["test/node/lambda-bundle.test.ts", "test/node/lambda-template.test.ts", "test/node/lambda-config.test.ts"];

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`))));
  });
}

const outdir = await mkdtemp(join(tmpdir(), "verigate-workers-dry-run-"));
try {
  await run("wrangler", ["deploy", "--dry-run", "--outdir", outdir]);
  await run("vitest", ["run", "--project", "node", ...LAMBDA_TESTS]);
} finally {
  await rm(outdir, { recursive: true, force: true });
}
