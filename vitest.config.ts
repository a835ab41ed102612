import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * wrangler.toml's two rate limiting bindings, by the same names and namespaces, with a limit a test crosses in a
 * few requests. At wrangler.toml's 1,000 per 10 s the crossing burst took 2.3 s on an idle machine and 13 s on a
 * loaded one, while it has to fit in one of the local limiter's 10 s wall-clock windows to be judged.
 */
const TEST_RATE_LIMITS = {
  RATE_LIMIT_CLIENT: { namespace_id: "1001", simple: { limit: 20, period: 10 as const } },
  RATE_LIMIT_KEY: { namespace_id: "1002", simple: { limit: 20, period: 10 as const } },
};

export default defineConfig({
  test: {
    // The gateway logs one JSON line per failed request; show them only for tests that fail.
    silent: "passed-only",
    projects: [
      {
        // Runs inside workerd with the real local R2, KV, Durable Object and Rate Limiting bindings of wrangler.toml.
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" }, miniflare: { ratelimits: TEST_RATE_LIMITS } })],
        test: { name: "workerd", include: ["test/workerd/**/*.test.ts"] },
      },
      {
        // Runs on Node: subprocesses, real HTTP on loopback, the AWS path against local servers.
        test: { name: "node", include: ["test/node/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
      },
    ],
  },
});
