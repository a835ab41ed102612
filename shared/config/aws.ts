import type { ConfigProblem } from "./problems.ts";
import type { Settings } from "./variables.ts";
import { KIB, MIB } from "../bytes.ts";

/** Lambda's quota on a synchronous invocation's request payload; Function URLs invoke synchronously. */
export const LAMBDA_REQUEST_PAYLOAD_BYTES = 6 * MIB;
/** Room for the rest of the event around the body: request context and headers, signatures included. */
const LAMBDA_EVENT_ENVELOPE_BYTES = 64 * KIB;
/**
 * The largest PUT body a Function URL can deliver: a binary body reaches the function base64-encoded inside
 * the event, four bytes for every three. Larger requests are refused by AWS before the function runs, so the
 * gateway caps `maxObjectBytes` here to answer its own 413 `too_large` for every body it does see.
 */
export const LAMBDA_MAX_PUT_BYTES = Math.floor((LAMBDA_REQUEST_PAYLOAD_BYTES - LAMBDA_EVENT_ENVELOPE_BYTES) / 4) * 3;

export type AwsRuntime = "lambda" | "node";

const REPLAY_STORE_UNSUPPORTED: Record<AwsRuntime, ConfigProblem> = {
  lambda: "replay_store_unsupported_on_lambda",
  node: "replay_store_unsupported_on_node",
};

/**
 * What a gateway on the AWS backends (Lambda, or the Node server) adds to the variables' checks. A missing
 * bucket or table is a problem code, like a missing binding on Workers: the gateway refuses to serve rather
 * than guess. Replay stores that need Workers bindings are refused the same way.
 */
export function awsProblems(settings: Settings, runtime: AwsRuntime): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!settings.s3) problems.push("missing_s3_bucket");
  if (!settings.dynamodbTable) problems.push("missing_dynamodb_table");
  if (settings.replayStore === "durable-object" || settings.replayStore === "kv") problems.push(REPLAY_STORE_UNSUPPORTED[runtime]);
  return problems;
}
