import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateEd25519Key } from "../../client/sdk/keys.ts";
import { startWranglerDev } from "../../test/node/support/wrangler-dev.ts";
import type { Signer } from "./client.ts";
import { findWorkerd, type ServingProcesses } from "./process-memory.ts";

const run = promisify(execFile);
const BENCH_CONFIG = new URL("../wrangler.toml", import.meta.url).pathname;
const ADMIN_KEYID = "bench-admin";

export interface BenchGateway {
  origin: string;
  signer: Signer;
  processes: ServingProcesses;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Bundles the bench Worker once into `outDir`, as `wrangler deploy` would. `wrangler dev` then serves that
 * file unbundled: it watches its sources and restarts workerd when one changes, which in a shared checkout
 * (others editing `shared/`) would restart the gateway in the middle of a measurement.
 */
export async function bundleBenchWorker(outDir: string): Promise<string> {
  await run("npx", ["wrangler", "deploy", "--dry-run", "--config", BENCH_CONFIG, "--outdir", outDir], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  return join(outDir, "worker.js");
}

/**
 * The bundled bench Worker under the real `wrangler dev` (workerd, local R2/KV/DO) on loopback, with a fresh
 * admin key and any further `vars`. State lives in `stateDir`, so a restarted gateway still serves the objects uploaded before.
 */
export async function startBenchGateway(bundle: string, stateDir: string, vars: Record<string, string> = {}): Promise<BenchGateway> {
  const { jwk, pair } = await generateEd25519Key(ADMIN_KEYID);
  const extra = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const server = await startWranglerDev(["--config", BENCH_CONFIG, "--no-bundle", bundle, "--var", `ADMIN_KEYS:${ADMIN_KEYID}=${jwk.x}`, ...extra], stateDir);
  try {
    return {
      origin: server.origin,
      signer: { keyid: ADMIN_KEYID, key: { alg: "ed25519", privateKey: pair.privateKey } },
      processes: findWorkerd(Number(new URL(server.origin).port)),
      output: server.output,
      stop: server.stop,
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
