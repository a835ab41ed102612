import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import type { unstable_getMiniflareWorkerOptions } from "wrangler";
import { newEd25519Key } from "../../support/keys.ts";
import { cachedBuild, REPO_ROOT } from "./build-cache.ts";
import { type LogEvent, parseLogLine, type WireClient, wireClient } from "./wire.ts";

const run = promisify(execFile);
const WRANGLER_CONFIG = join(REPO_ROOT, "wrangler.toml");

type R2Bucket = Awaited<ReturnType<Miniflare["getR2Bucket"]>>;
type KVNamespace = Awaited<ReturnType<Miniflare["getKVNamespace"]>>;

/** The Workers harness: the shared wire client, with the worker's own R2 bucket and KV namespace for tampering. */
export interface WorkersGateway extends WireClient {
  bucket: R2Bucket;
  kv: KVNamespace;
  stop(): Promise<void>;
}

/**
 * What a bundle is made from: the worker's sources, the configuration, and (by the lockfile) every dependency,
 * wrangler's version included. Every suite file starts its own gateway, and bundling is most of a start's time
 * (about 1.5 s of 2), so a bundle is reused only while every file that can go into it is unchanged.
 */
const BUNDLE_SOURCES = { dirs: ["functions", "shared"], files: ["wrangler.toml", "package-lock.json"] };

/** A built worker: the bundle, and the Miniflare options wrangler derives from wrangler.toml. */
interface BuiltWorker {
  scriptPath: string;
  options: WorkerConfig;
}

interface WorkerConfig {
  workerOptions: Omit<ReturnType<typeof unstable_getMiniflareWorkerOptions>["workerOptions"], "modulesRules">;
  vars: Record<string, string>;
}

/**
 * `wrangler deploy --dry-run` bundles exactly what would be deployed, offline. The worker options are derived at
 * the same time and kept beside the bundle: importing wrangler takes 1.5 to 3 s per test file on this machine, and
 * its options depend only on wrangler.toml and wrangler's version, both in the bundle's sources.
 */
async function buildWorker(): Promise<BuiltWorker> {
  const dir = await cachedBuild("verigate-worker-builds", BUNDLE_SOURCES, async (outdir) => {
    const metafile = join(outdir, "meta.json");
    await run(join(REPO_ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir, "--metafile", metafile, "--config", WRANGLER_CONFIG], {
      cwd: REPO_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    });
    const { inputs } = JSON.parse(await readFile(metafile, "utf8")) as { inputs: Record<string, unknown> };
    const unkeyed = Object.keys(inputs).filter((input) => ![...BUNDLE_SOURCES.dirs, "node_modules"].some((root) => input.startsWith(`${root}/`)));
    if (unkeyed.length > 0) throw new Error(`the worker bundle reads files its cache key does not cover; add them to BUNDLE_SOURCES: ${unkeyed.join(", ")}`);
    await writeFile(join(outdir, "options.json"), JSON.stringify(await workerConfigFromToml()));
  });
  return { scriptPath: join(dir, "worker.js"), options: JSON.parse(await readFile(join(dir, "options.json"), "utf8")) as WorkerConfig };
}

/**
 * The worker's options as wrangler derives them from wrangler.toml (bindings, compatibility, migrations), so the
 * harness cannot drift from the deployed configuration. Vars come from `[vars]` alone: a developer's `.dev.vars`
 * must not change what the tests see.
 */
async function workerConfigFromToml(): Promise<WorkerConfig> {
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: WRANGLER_CONFIG }, { hideWarnings: true });
  // Module rules locate non-JS imports of unbundled sources; the bundle has none, and Miniflare 5 refuses them.
  const { modulesRules: _unused, ...workerOptions } = unstable_getMiniflareWorkerOptions(config).workerOptions;
  return { workerOptions, vars: Object.fromEntries(Object.entries(config.vars).map(([name, value]) => [name, String(value)])) };
}

/**
 * The real bundled worker in workerd (Miniflare), listening on a loopback port, with fresh in-memory R2, KV and
 * Durable Object storage and a fresh admin key. `vars` are added to wrangler.toml's `[vars]`.
 */
export async function startWorkersGateway(vars: Record<string, string> = {}): Promise<WorkersGateway> {
  const adminKey = await newEd25519Key();
  const admin = { keyid: "wire-admin", key: { alg: "ed25519" as const, privateKey: adminKey.privateKey }, publicKey: adminKey.publicKey };
  const logged: LogEvent[] = [];
  let mf: Miniflare | undefined;
  let url: URL;
  try {
    const { scriptPath, options } = await buildWorker();
    mf = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        modules: true,
        scriptPath,
        // Module names are relative to this; the default (cwd) would put the bundle outside it.
        modulesRoot: dirname(scriptPath),
        ...options.workerOptions,
        bindings: { ...options.vars, ADMIN_KEYS: `${admin.keyid}=${admin.publicKey}`, ...vars },
        handleStructuredLogs: ({ message }) => {
          const line = parseLogLine(message);
          if (line) logged.push(line);
        },
      }),
    );
    url = await mf.ready;
  } catch (error) {
    await mf?.dispose();
    throw error;
  }
  const runtime = mf;
  return {
    ...wireClient(url.origin, admin, () => logged),
    bucket: await runtime.getR2Bucket("OBJECTS"),
    kv: await runtime.getKVNamespace("META"),
    stop: () => runtime.dispose(),
  };
}
