import { parseConfig, type Config, type Vars } from "../../shared/config/index.ts";

/** Lambda's quota on a synchronous invocation's request payload; Function URLs invoke synchronously. */
export const LAMBDA_REQUEST_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Room for the rest of the event around the body: request context and headers, signatures included. */
const LAMBDA_EVENT_ENVELOPE_BYTES = 64 * 1024;
/**
 * The largest PUT body a Function URL can deliver: a binary body reaches the function base64-encoded inside
 * the event, four bytes for every three. Larger requests are refused by AWS before the function runs, so the
 * gateway caps `maxObjectBytes` here to answer its own 413 `too_large` for every body it does see.
 */
export const LAMBDA_MAX_PUT_BYTES = Math.floor((LAMBDA_REQUEST_PAYLOAD_BYTES - LAMBDA_EVENT_ENVELOPE_BYTES) / 4) * 3;

export type AwsRuntime = "lambda" | "node";

/**
 * The validated config of a gateway on the AWS backends (Lambda, or the Node server with local stand-ins).
 * A missing bucket or table is a problem code, like a missing binding on Workers: the gateway refuses to
 * serve rather than guess. Replay stores that need Workers bindings are refused the same way.
 */
export function awsConfig(vars: Vars, runtime: AwsRuntime): Readonly<Config> {
  const config = parseConfig(vars, runtime);
  const problems = [...config.problems];
  if (!config.s3) problems.push("missing_s3_bucket");
  if (!config.dynamodbTable) problems.push("missing_dynamodb_table");
  if (config.replayStore === "durable-object" || config.replayStore === "kv") problems.push(`replay_store_unsupported_on_${runtime}`);
  const maxObjectBytes = runtime === "lambda" ? Math.min(config.maxObjectBytes, LAMBDA_MAX_PUT_BYTES) : config.maxObjectBytes;
  if (problems.length === config.problems.length && maxObjectBytes === config.maxObjectBytes) return config;
  return Object.freeze({ ...config, maxObjectBytes, problems: Object.freeze(problems) });
}
