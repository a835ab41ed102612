import { it, type TestFunction } from "vitest";
import { startAwsGateway } from "./aws-gateway.ts";
import { startGateway } from "./gateway-server.ts";
import { startLambdaGateway } from "./lambda-gateway.ts";
import type { GatewayHarness } from "./wire.ts";

/**
 * The builds every HTTP suite runs on, named as `/healthz` names their runtime. `workers`: the wrangler-bundled
 * Worker in workerd (R2, KV, Durable Object). `node`: the same app on `@hono/node-server` over s3rver and dynalite
 * (S3, DynamoDB). `lambda`: the built Lambda handler behind a loopback Function URL, over s3rver and dynalite too.
 */
export type Runtime = "workers" | "node" | "lambda";

/**
 * Every HTTP suite runs once per entry (`describe.each(RUNTIMES)`), so a behaviour that differs between the
 * runtimes has to be named where the suite expects it (deploy/LAMBDA.md, "Behaviour differences").
 */
export const RUNTIMES: readonly (readonly [runtime: Runtime, start: (vars?: Record<string, string>) => Promise<GatewayHarness>])[] = [
  ["workers", startGateway],
  ["node", startAwsGateway],
  ["lambda", startLambdaGateway],
];

/** deploy/LAMBDA.md, "Behaviour differences", 3: what a case needs the gateway to see of a request still arriving. */
export const FUNCTION_URL_BUFFERS_REQUESTS = "a Function URL buffers the whole request before the function runs";
/** deploy/LAMBDA.md, "The Node server only": an answer to broken framing comes from the front, not the gateway. */
export const FUNCTION_URL_TERMINATES_HTTP = "a Function URL terminates HTTP itself, so the front answers malformed requests, not the gateway";

/**
 * `it`, unless `skips` names a platform difference for `runtime`: then the case is skipped with the reason in its
 * name, so a report says which build it did not run on and why.
 */
export function itUnless(runtime: Runtime, skips: Partial<Record<Runtime, string>>): (name: string, test: TestFunction) => void {
  const reason = skips[runtime];
  return (name, test) => (reason === undefined ? it(name, test) : it.skip(`${name} (skipped on ${runtime}: ${reason})`, test));
}
