/**
 * `npx node scripts/serve-node.ts`: the gateway on Node (`functions/aws/node-server.ts`) with the AWS backends,
 * against the S3 bucket and DynamoDB table the environment names: AWS itself, or an S3-compatible store
 * (MinIO, R2's S3 API) through `S3_ENDPOINT`. Configured only by the PROTOCOL section 7 variables, plus `PORT`
 * and `HOST` (the address to listen on). Unlike `npm run start:aws-local` it starts no local stand-ins and
 * creates no key: docs/OPERATIONS.md has the recipe.
 */
import { serveNode } from "../functions/aws/node-server.ts";
import { sweepPeriodically } from "../functions/sweep.ts";

const DEFAULT_PORT = 8080;
/** Loopback unless told otherwise: a gateway reachable from other machines is the operator's explicit choice. */
const DEFAULT_HOST = "127.0.0.1";

const port = Number(process.env.PORT ?? DEFAULT_PORT);
const gateway = await serveNode(process.env, { port, hostname: process.env.HOST ?? DEFAULT_HOST });
const { backends } = gateway;
const { config, log } = backends;
log.log(config.problems.length > 0 ? "error" : "info", "gateway_started", {
  origin: gateway.origin,
  runtime: config.runtime,
  problems: config.problems,
});

const stopSweeping = sweepPeriodically(backends);

async function shutdown(): Promise<void> {
  stopSweeping();
  await gateway.close();
  process.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void shutdown());
