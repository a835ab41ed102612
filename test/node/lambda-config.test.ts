import { describe, expect, it } from "vitest";
import { awsConfig, LAMBDA_MAX_PUT_BYTES, LAMBDA_REQUEST_PAYLOAD_BYTES } from "../../functions/aws/config.ts";
import { parseConfig } from "../../shared/config/index.ts";
import { DEFAULT_MAX_OBJECT_BYTES } from "../../shared/config/constants.ts";

const CONFIGURED = { S3_BUCKET: "verigate-objects-1234", DYNAMODB_TABLE: "verigate-meta-1234" };

describe("the config of a gateway on the AWS backends", () => {
  it("is healthy with a bucket and a table, and uses DynamoDB for replay by default", () => {
    const config = awsConfig(CONFIGURED, "lambda");
    expect(config.problems).toEqual([]);
    expect(config.replayStore).toBe("dynamodb");
  });

  it("names a missing bucket and a missing table as problems, on Lambda and on Node", () => {
    for (const runtime of ["lambda", "node"] as const) {
      expect(awsConfig({}, runtime).problems).toEqual(["missing_s3_bucket", "missing_dynamodb_table"]);
    }
  });

  it.each(["durable-object", "kv"])("refuses REPLAY_STORE=%s, which needs Workers bindings", (store) => {
    expect(awsConfig({ ...CONFIGURED, REPLAY_STORE: store }, "lambda").problems).toEqual(["replay_store_unsupported_on_lambda"]);
  });

  it("takes the bucket's region from AWS_REGION when S3_REGION is unset, and S3_REGION over it", () => {
    expect(awsConfig({ ...CONFIGURED, AWS_REGION: "eu-west-1" }, "lambda").s3?.region).toBe("eu-west-1");
    expect(awsConfig({ ...CONFIGURED, AWS_REGION: "eu-west-1", S3_REGION: "us-east-2" }, "lambda").s3?.region).toBe("us-east-2");
    // R2's S3 API on Workers takes "auto", whatever an AWS variable says.
    expect(parseConfig({ ...CONFIGURED, AWS_REGION: "eu-west-1" }, "workers").s3?.region).toBe("auto");
  });

  it("caps MAX_OBJECT_BYTES on Lambda at the largest body a Function URL delivers, and only on Lambda", () => {
    expect(awsConfig(CONFIGURED, "lambda").maxObjectBytes).toBe(LAMBDA_MAX_PUT_BYTES);
    expect(awsConfig({ ...CONFIGURED, MAX_OBJECT_BYTES: "1000" }, "lambda").maxObjectBytes).toBe(1000);
    expect(awsConfig(CONFIGURED, "node").maxObjectBytes).toBe(DEFAULT_MAX_OBJECT_BYTES);
  });

  it("keeps the largest PUT's base64 body, with 64 KiB for the rest of the event, inside Lambda's request payload", () => {
    const base64Bytes = 4 * Math.ceil(LAMBDA_MAX_PUT_BYTES / 3);
    expect(base64Bytes + 64 * 1024).toBeLessThanOrEqual(LAMBDA_REQUEST_PAYLOAD_BYTES);
    expect(4 * Math.ceil((LAMBDA_MAX_PUT_BYTES + 3) / 3) + 64 * 1024).toBeGreaterThan(LAMBDA_REQUEST_PAYLOAD_BYTES);
  });
});
