import { describe, it, type TestFunction } from "vitest";
import type { AwsGateway } from "./aws-stores.ts";
import { startLambdaGateway } from "./lambda-gateway.ts";
import { startNodeGateway } from "./node-gateway.ts";
import type { GatewayHarness } from "./wire.ts";
import { startWorkersGateway } from "./workers-gateway.ts";

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
/** The builds on the AWS stores (s3rver and dynalite), for the cases that need S3 itself. */
export const AWS_RUNTIMES: readonly (readonly [runtime: Runtime, start: (vars?: Record<string, string>) => Promise<AwsGateway>])[] = [
  ["node", startNodeGateway],
  ["lambda", startLambdaGateway],
];

export const RUNTIMES: readonly (readonly [runtime: Runtime, start: (vars?: Record<string, string>) => Promise<GatewayHarness>])[] = [
  ["workers", startWorkersGateway],
  ...AWS_RUNTIMES,
];

/** deploy/LAMBDA.md, "Limits": Lambda's 6 MB request payload quota caps a PUT through a Function URL at 4,669,440 bytes. */
export const LAMBDA_PAYLOAD_CAP = "Lambda's 6 MB request payload quota refuses a PUT above 4,669,440 bytes before the function runs";
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
  return (name, test) => (reason === undefined ? it(name, test) : it.skip(skippedName(name, runtime, reason), test));
}

/** `describe`, unless `skips` names a platform difference for `runtime` (see `itUnless`). */
export function describeUnless(runtime: Runtime, skips: Partial<Record<Runtime, string>>): (name: string, suite: () => void) => void {
  const reason = skips[runtime];
  return (name, suite) => (reason === undefined ? describe(name, suite) : describe.skip(skippedName(name, runtime, reason), suite));
}

function skippedName(name: string, runtime: Runtime, reason: string): string {
  return `${name} (skipped on ${runtime}: ${reason})`;
}
