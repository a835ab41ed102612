import { startAwsGateway } from "./aws-gateway.ts";
import { startGateway } from "./gateway-server.ts";
import type { GatewayHarness } from "./wire.ts";

/**
 * `workers`: the wrangler-bundled Worker in workerd (R2, KV, Durable Object). `aws`: the same app on
 * `@hono/node-server` over s3rver and dynalite (S3, DynamoDB), the Lambda code path over real HTTP.
 */
export type Runtime = "workers" | "aws";

/**
 * Every HTTP contract suite runs once per entry (`describe.each(RUNTIMES)`), so a behaviour that differs between
 * the runtimes has to be named where the suite expects it (deploy/LAMBDA.md, "Behaviour differences").
 */
export const RUNTIMES: readonly (readonly [runtime: Runtime, start: (vars?: Record<string, string>) => Promise<GatewayHarness>])[] = [
  ["workers", startGateway],
  ["aws", startAwsGateway],
];
