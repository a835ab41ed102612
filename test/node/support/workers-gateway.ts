import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { newEd25519Key } from "../../support/keys.ts";
import { type LogEvent, parseLogLine, type WireClient, wireClient } from "./wire.ts";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
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
 * Bundles are kept here between harness starts: every suite file starts its own gateway, and bundling is most of a
 * start's time (about 1.5 s of 2). A bundle is reused only while every file that can go into it is unchanged.
 */
const BUNDLE_CACHE = join(tmpdir(), "verigate-worker-bundles");
/** Bundles of older sources are removed once this old; younger ones may still be starting in a run in progress. */
const STALE_BUNDLE_MS = 60 * 60 * 1000;
/** What a bundle is made from: the worker's sources, the configuration, and (by the lockfile) every dependency. */
const BUNDLE_SOURCES = ["functions", "shared"];
const BUNDLE_CONFIG = ["wrangler.toml", "package-lock.json"];

/** `wrangler deploy --dry-run` bundles exactly what would be deployed, offline; the path of the bundled worker. */
async function bundleWorker(): Promise<string> {
  const key = await bundleKey();
  const cached = join(BUNDLE_CACHE, key);
  if (await exists(join(cached, "worker.js"))) return join(cached, "worker.js");
  await mkdir(BUNDLE_CACHE, { recursive: true });
  const outdir = await mkdtemp(join(BUNDLE_CACHE, "building-"));
  const metafile = join(outdir, "meta.json");
  await run(join(REPO_ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir, "--metafile", metafile, "--config", WRANGLER_CONFIG], {
    cwd: REPO_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  const { inputs } = JSON.parse(await readFile(metafile, "utf8")) as { inputs: Record<string, unknown> };
  const unkeyed = Object.keys(inputs).filter((input) => ![...BUNDLE_SOURCES, "node_modules"].some((root) => input.startsWith(`${root}/`)));
  if (unkeyed.length > 0) throw new Error(`the worker bundle reads files its cache key does not cover; add them to BUNDLE_SOURCES: ${unkeyed.join(", ")}`);
  // Another suite file may have built the same bundle meanwhile; either copy is the same bundle.
  await rename(outdir, cached).catch(() => rm(outdir, { recursive: true, force: true }));
  await removeStaleBundles(key);
  return join(cached, "worker.js");
}

/** A digest of every file a bundle is made from, with its path. */
async function bundleKey(): Promise<string> {
  const hash = createHash("sha256");
  const sourceFiles = await Promise.all(BUNDLE_SOURCES.map((dir) => readdir(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })));
  const files = [
    ...sourceFiles
      .flat()
      .filter((entry) => entry.isFile())
      .map((entry) => relative(REPO_ROOT, join(entry.parentPath, entry.name))),
    ...BUNDLE_CONFIG,
  ].sort();
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(await readFile(join(REPO_ROOT, file)))
      .update("\0");
  return hash.digest("hex");
}

async function removeStaleBundles(current: string): Promise<void> {
  const cutoff = Date.now() - STALE_BUNDLE_MS;
  for (const entry of await readdir(BUNDLE_CACHE)) {
    const path = join(BUNDLE_CACHE, entry);
    if (entry !== current && (await stat(path)).mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The worker's options as wrangler derives them from wrangler.toml (bindings, compatibility, migrations), so the
 * harness cannot drift from the deployed configuration. Vars come from `[vars]` alone: a developer's `.dev.vars`
 * must not change what the tests see.
 */
function workerOptionsFromConfig(vars: Record<string, string>) {
  const config = unstable_readConfig({ config: WRANGLER_CONFIG }, { hideWarnings: true });
  // Module rules locate non-JS imports of unbundled sources; the bundle has none, and Miniflare 5 refuses them.
  const { modulesRules: _unused, ...workerOptions } = unstable_getMiniflareWorkerOptions(config).workerOptions;
  const configVars = Object.fromEntries(Object.entries(config.vars).map(([name, value]) => [name, String(value)]));
  return { ...workerOptions, bindings: { ...configVars, ...vars } };
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
    const scriptPath = await bundleWorker();
    mf = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        modules: true,
        scriptPath,
        // Module names are relative to this; the default (cwd) would put the bundle outside it.
        modulesRoot: dirname(scriptPath),
        ...workerOptionsFromConfig({ ADMIN_KEYS: `${admin.keyid}=${admin.publicKey}`, ...vars }),
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
