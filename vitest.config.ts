import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";

const WRANGLER_CONFIG = "./wrangler.toml";
/** The files wrangler reads beside wrangler.toml into a local Worker's env (`.env*` only when `.dev.vars` is absent). */
const DEVELOPER_VAR_FILES = [".dev.vars", ".env", ".env.local"];

/**
 * The plugin gives the test Worker whatever a developer's `.dev.vars` says (`AUTH_MODE=soft` failed the suite).
 * Every name set there is pinned back to its wrangler.toml `[vars]` value, or blanked, which the config reads as
 * unset, so the workerd tests see wrangler.toml alone.
 */
function wranglerTomlVarsOnly(): Record<string, string> {
  const { vars } = unstable_readConfig({ config: WRANGLER_CONFIG }, { hideWarnings: true });
  const files = DEVELOPER_VAR_FILES.map((name) => fileURLToPath(new URL(name, import.meta.url))).filter((file) => existsSync(file));
  const names = files.flatMap((file) => Object.keys(parseEnv(readFileSync(file, "utf8"))));
  return Object.fromEntries(names.map((name) => [name, name in vars ? String(vars[name]) : ""]));
}

/**
 * wrangler.toml's two rate limiting bindings, by the same names and namespaces, with a limit a test crosses in a
 * few requests. At wrangler.toml's 1,000 per 10 s the crossing burst took 2.3 s on an idle machine and 13 s on a
 * loaded one, while it has to fit in one of the local limiter's 10 s wall-clock windows to be judged.
 */
const TEST_RATE_LIMITS = {
  RATE_LIMIT_CLIENT: { namespace_id: "1001", simple: { limit: 20, period: 10 as const } },
  RATE_LIMIT_KEY: { namespace_id: "1002", simple: { limit: 20, period: 10 as const } },
};

/**
 * V8's compile cache for every Node process the suite starts, which inherit it: the test file processes (each loads
 * the AWS SDK, Miniflare and the gateway again), every `verigate` run of the CLI suites (a few hundred), wrangler and
 * the nested vitest runs. A developer's own setting is kept.
 */
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), "verigate-node-compile-cache");

/** Test files that move gigabytes (issue 12's 2 GiB object); see the "large" project. */
const LARGE_TRANSFERS = ["test/node/large-object-workers.test.ts"];

/**
 * Node test files that need modules no other file has loaded: the in-process Lambda handler reads process.env into
 * its backends once per module instance, so its file sets the environment first and imports the handler after.
 */
const NODE_FRESH = ["test/node/lambda-handler.test.ts"];

const NODE_TEST = { testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    // The gateway logs one JSON line per failed request; show them only for tests that fail.
    silent: "passed-only",
    // Two files at once, not vitest's default of one on a 2-core machine: most suites wait on subprocesses, loopback
    // servers and local stores rather than compute. Measured on this machine: 257 s against 348 s for one at a time.
    maxWorkers: 2,
    projects: [
      {
        // Runs inside workerd with the real local R2, KV, Durable Object and Rate Limiting bindings of wrangler.toml.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: WRANGLER_CONFIG },
            miniflare: { bindings: wranglerTomlVarsOnly(), ratelimits: TEST_RATE_LIMITS },
            // workerd's verbose log printed the local R2 simulator's own failures on aborted uploads and
            // cancelled reads (14 "uncaught exception" lines and stack traces in a green run). An unhandled
            // rejection in the tested code still fails the run: vitest reports those from the test isolate.
            verbose: false,
          }),
        ],
        // 20 s, not vitest's 5 s: the first storage presign loads the AWS SDK inside workerd, which took 4.6 s on
        // this 2-core machine under load (measured), and a timeout there says nothing about the gateway.
        test: { name: "workerd", include: ["test/workerd/**/*.test.ts"], testTimeout: 20_000 },
      },
      {
        // Runs on Node: subprocesses, real HTTP on loopback, the AWS path against local servers. The files of a worker
        // share one module graph (isolate: false) instead of each loading the AWS SDK, Miniflare and the gateway
        // afresh: twelve HTTP suites took 35 s instead of 55 and 57 s (vitest's summed import time 7 s instead of 27 s),
        // runs taken in turn at load 1.4 to 5. Every file still starts its own gateways and stores; a file that needs
        // modules no other file has loaded is in NODE_FRESH.
        test: {
          ...NODE_TEST,
          name: "node",
          include: ["test/node/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...LARGE_TRANSFERS, ...NODE_FRESH],
          isolate: false,
        },
      },
      {
        test: { ...NODE_TEST, name: "node-fresh", include: NODE_FRESH },
      },
      {
        // The multi-gigabyte transfers run after the other projects, alone: one of them keeps both cores busy (the CLI
        // and workerd), and next to other files a 2 GiB upload took over 240 s where it takes 50 s by itself.
        test: { name: "large", include: [...LARGE_TRANSFERS], testTimeout: 240_000, hookTimeout: 240_000, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
