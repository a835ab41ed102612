import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The gateway logs one JSON line per failed request; show them only for tests that fail.
    silent: "passed-only",
    projects: [
      {
        // Runs inside workerd with the real local R2, KV and Durable Object bindings of wrangler.toml.
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        // 20 s, not vitest's 5 s: the first storage presign loads the AWS SDK inside workerd, which took 4.6 s on
        // this 2-core machine under load (measured), and a timeout there says nothing about the gateway.
        test: { name: "workerd", include: ["test/workerd/**/*.test.ts"], testTimeout: 20_000 },
      },
      {
        // Runs on Node: subprocesses, real HTTP on loopback, the AWS path against local servers.
        test: { name: "node", include: ["test/node/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
      },
    ],
  },
});
