/**
 * Child process of `npm run bench`: the gateway on Node with the AWS backends (`functions/aws/node-server.ts`,
 * the Lambda function's code path without the Lambda event adapter), plus a second server with the
 * `/bench/*` routes on the very same backends. Configured by the PROTOCOL section 7 variables in
 * `BENCH_VARS` (JSON). Prints `{"ready": {"origin", "benchOrigin"}}`, stops on SIGTERM.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp } from "../../functions/app.ts";
import { serveNode } from "../../functions/aws/node-server.ts";
import { addBenchRoutes } from "../routes.ts";

const vars = JSON.parse(process.env.BENCH_VARS ?? "{}") as Record<string, string>;
const gateway = await serveNode(vars, { port: 0 });
// Flood control off, as the bench Worker runs without rate limiting bindings: the product's 1,000 requests
// per 10 s per client would throttle the auth benchmark. The app reads its backends on every request.
gateway.backends.limits = undefined;

const benchApp = addBenchRoutes(createApp(() => gateway.backends));
const benchOrigin = await new Promise<string>((resolve) => {
  serve({ fetch: benchApp.fetch, hostname: "127.0.0.1", port: 0 }, (address: AddressInfo) => resolve(`http://127.0.0.1:${address.port}`));
});

process.once("SIGTERM", () => {
  void gateway.close().finally(() => process.exit(0));
});
console.log(JSON.stringify({ ready: { origin: gateway.origin, benchOrigin } }));
