import { describe, expect, it } from "vitest";
import { LAMBDA_MAX_PUT_BYTES, LAMBDA_REQUEST_PAYLOAD_BYTES } from "../../shared/config/aws.ts";
import { loadConfig, parseConfig } from "../../shared/config/index.ts";
import { DEFAULT_MAX_OBJECT_BYTES } from "../../shared/config/constants.ts";

const CONFIGURED = { S3_BUCKET: "verigate-objects-1234", DYNAMODB_TABLE: "verigate-meta-1234" };

describe("the config of a gateway on the AWS backends", () => {
  it("is healthy with a bucket and a table, and uses DynamoDB for replay by default", () => {
    const config = loadConfig(CONFIGURED, { runtime: "lambda" });
    expect(config.problems).toEqual([]);
    expect(config.replayStore).toBe("dynamodb");
  });

  it("names a missing bucket and a missing table as problems, on Lambda and on Node", () => {
    for (const runtime of ["lambda", "node"] as const) {
      expect(loadConfig({}, { runtime }).problems).toEqual(["missing_s3_bucket", "missing_dynamodb_table"]);
    }
  });

  it.each(["durable-object", "kv"])("refuses REPLAY_STORE=%s, which needs Workers bindings", (store) => {
    expect(loadConfig({ ...CONFIGURED, REPLAY_STORE: store }, { runtime: "lambda" }).problems).toEqual(["replay_store_unsupported_on_lambda"]);
  });

  it("takes the bucket's region from AWS_REGION when S3_REGION is unset, and S3_REGION over it", () => {
    expect(loadConfig({ ...CONFIGURED, AWS_REGION: "eu-west-1" }, { runtime: "lambda" }).s3?.region).toBe("eu-west-1");
    expect(loadConfig({ ...CONFIGURED, AWS_REGION: "eu-west-1", S3_REGION: "us-east-2" }, { runtime: "lambda" }).s3?.region).toBe("us-east-2");
    // R2's S3 API on Workers takes "auto", whatever an AWS variable says.
    expect(parseConfig({ ...CONFIGURED, AWS_REGION: "eu-west-1" }, "workers").s3?.region).toBe("auto");
  });

  it("caps MAX_OBJECT_BYTES on Lambda at the largest body a Function URL delivers, and only on Lambda", () => {
    expect(loadConfig(CONFIGURED, { runtime: "lambda" }).maxObjectBytes).toBe(LAMBDA_MAX_PUT_BYTES);
    expect(loadConfig({ ...CONFIGURED, MAX_OBJECT_BYTES: "1000" }, { runtime: "lambda" }).maxObjectBytes).toBe(1000);
    expect(loadConfig(CONFIGURED, { runtime: "node" }).maxObjectBytes).toBe(DEFAULT_MAX_OBJECT_BYTES);
  });

  it("keeps the largest PUT's base64 body, with 64 KiB for the rest of the event, inside Lambda's request payload", () => {
    const base64Bytes = 4 * Math.ceil(LAMBDA_MAX_PUT_BYTES / 3);
    expect(base64Bytes + 64 * 1024).toBeLessThanOrEqual(LAMBDA_REQUEST_PAYLOAD_BYTES);
    expect(4 * Math.ceil((LAMBDA_MAX_PUT_BYTES + 3) / 3) + 64 * 1024).toBeGreaterThan(LAMBDA_REQUEST_PAYLOAD_BYTES);
  });
});

describe("storage presign's prerequisites on the AWS backends", () => {
  it("needs no explicit S3 keys on Lambda or Node, where the SDK's default chain (the execution role) signs", () => {
    expect(loadConfig({ ...CONFIGURED, PRESIGN_SECRET: "s".repeat(32), PRESIGN_STORAGE: "on" }, { runtime: "lambda" }).warnings).toEqual([]);
  });

  it("reports a missing bucket once, as the problem that stops every route, not also as a warning", () => {
    const config = loadConfig({ DYNAMODB_TABLE: CONFIGURED.DYNAMODB_TABLE, PRESIGN_SECRET: "s".repeat(32), PRESIGN_STORAGE: "on" }, { runtime: "node" });
    expect(config.problems).toEqual(["missing_s3_bucket"]);
    expect(config.warnings).toEqual([]);
  });
});
