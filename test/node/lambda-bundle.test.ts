import { randomFillSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { LambdaFunctionURLEvent, StreamifyHandler } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLambda, isNodeBuiltin } from "../../scripts/lambda-bundle.ts";
import { newEd25519Key } from "../support/keys.ts";
import { LOCAL_AWS_REGION, startLocalAws } from "../../scripts/local-aws.ts";
import { functionUrlEvent, installLambdaRuntime, invoke, signedFunctionUrlEvent } from "../../scripts/lambda-runtime.ts";

const TABLE = "verigate-bundle";

let dir: string;
let bundle: { outfile: string; external: string[] };
let local: Awaited<ReturnType<typeof startLocalAws>>;
const savedEnv = { ...process.env };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "verigate-lambda-bundle-"));
  [bundle, local] = await Promise.all([
    buildLambda(join(dir, "index.mjs")),
    startLocalAws({ bucket: "verigate-bundle", table: TABLE, s3Directory: join(dir, "s3") }),
  ]);
  installLambdaRuntime();
});

afterAll(async () => {
  process.env = savedEnv;
  await local?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * A fresh instance of the built bundle, as a new execution environment loads it: it reads `env` on its first
 * invocation, with only what the Lambda runtime itself sets besides.
 */
async function loadBundle(instance: string, env: Record<string, string>): Promise<StreamifyHandler<LambdaFunctionURLEvent, void>> {
  process.env = { AWS_REGION: LOCAL_AWS_REGION, AWS_LAMBDA_FUNCTION_NAME: "verigate", ...env };
  const module = (await import(`${pathToFileURL(bundle.outfile).href}?${instance}`)) as { handler: StreamifyHandler<LambdaFunctionURLEvent, void> };
  return module.handler;
}

describe("the built Lambda bundle (dist/lambda/index.mjs)", () => {
  it("leaves only Node built-ins outside the bundle", () => {
    expect(bundle.external.filter((specifier) => !isNodeBuiltin(specifier))).toEqual([]);
  });

  it("answers a Function URL GET /healthz with 503 misconfigured while its bucket and table are not set", async () => {
    const handler = await loadBundle("unconfigured", {});
    const response = await invoke(handler, functionUrlEvent({ method: "GET", target: "/healthz" }));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body.toString())).toMatchObject({
      status: "misconfigured",
      runtime: "lambda",
      problems: ["missing_s3_bucket", "missing_dynamodb_table"],
    });
  });

  it("serves /healthz, a signed PUT and a verified GET with the bundled SDK, S3 credentials from the default chain", async () => {
    const admin = await newEd25519Key();
    // No S3 keys and no S3_REGION: as for the execution role, credentials and region come from the runtime's AWS_* variables.
    const { vars } = local;
    const handler = await loadBundle("configured", {
      AWS_ACCESS_KEY_ID: vars.S3_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: vars.S3_SECRET_ACCESS_KEY,
      ADMIN_KEYS: `bundle-admin=${admin.publicKey}`,
      S3_ENDPOINT: vars.S3_ENDPOINT,
      S3_BUCKET: vars.S3_BUCKET,
      DYNAMODB_ENDPOINT: vars.DYNAMODB_ENDPOINT,
      DYNAMODB_TABLE: vars.DYNAMODB_TABLE,
    });
    const health = await invoke(handler, functionUrlEvent({ method: "GET", target: "/healthz" }));
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body.toString())).toMatchObject({ status: "ok", runtime: "lambda", storage: { backend: "s3" } });

    const signer = { keyid: "bundle-admin", privateKey: admin.privateKey };
    const bytes = randomFillSync(new Uint8Array(200_000));
    const put = await invoke(handler, await signedFunctionUrlEvent({ method: "PUT", target: "/v1/objects/bundle/a.bin", body: bytes }, signer));
    expect(put.statusCode, put.body.toString()).toBe(201);
    const get = await invoke(handler, await signedFunctionUrlEvent({ method: "GET", target: "/v1/objects/bundle/a.bin" }, signer));
    expect(get.statusCode).toBe(200);
    expect(get.ended).toBe(true);
    expect(Buffer.compare(get.body, bytes)).toBe(0);
  });
});
