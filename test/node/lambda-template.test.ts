import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { parse, type Tags, type YAMLMap, type YAMLSeq } from "yaml";
import { loadConfig } from "../../shared/config/index.ts";
import { SWEEP_PERIOD_MS } from "../../functions/sweep.ts";
import { TTL_ATTRIBUTE } from "../../shared/metadata/dynamodb-table.ts";
import { DEFAULT_LAMBDA_OUTFILE } from "../../scripts/lambda-bundle.ts";
import { installLambdaRuntime } from "../../scripts/lambda-runtime.ts";

const TEMPLATE_PATH = fileURLToPath(new URL("../../deploy/template.yaml", import.meta.url));
const WRANGLER_CONFIG_PATH = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));

/**
 * Variables the Lambda config reads that the template must not set, each with why. Every other variable the
 * config reads must be in the template, so a new setting cannot ship without a way to deploy it.
 */
const NOT_IN_TEMPLATE: Record<string, string> = {
  AWS_REGION: "set by the Lambda runtime (a reserved variable)",
  S3_ENDPOINT: "for S3-compatible stores other than AWS S3",
  S3_ACCESS_KEY_ID: "the execution role's credentials are used instead of keys",
  S3_SECRET_ACCESS_KEY: "the execution role's credentials are used instead of keys",
  DYNAMODB_ENDPOINT: "for local servers only",
  MAX_IN_FLIGHT_BYTES: "a Lambda environment serves one request at a time, which the in-flight budget always admits",
};

/** CloudFormation's short-form intrinsic functions, as their long forms. */
const CLOUDFORMATION_TAGS: Tags = [
  { tag: "!Ref", resolve: (value: string) => ({ Ref: value }) },
  { tag: "!Sub", resolve: (value: string) => ({ "Fn::Sub": value }) },
  { tag: "!GetAtt", resolve: (value: string) => ({ "Fn::GetAtt": value.split(".") }) },
  ...["If", "Not", "Equals"].map((name) => ({
    tag: `!${name}`,
    collection: "seq" as const,
    resolve: (value: YAMLMap.Parsed | YAMLSeq.Parsed) => ({ [`Fn::${name}`]: value.toJSON() }),
  })),
];

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

interface Resource {
  Type: string;
  Properties: Record<string, unknown> & { Policies?: { Statement: Statement[] }[] };
}

interface Template {
  Transform: string;
  Parameters: Record<string, { NoEcho?: boolean }>;
  Globals: { Function: Record<string, unknown> & { Environment: { Variables: Record<string, unknown> } } };
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
}

let template: Template;
let source: string;

beforeAll(async () => {
  source = await readFile(TEMPLATE_PATH, "utf8");
  template = parse(source, { customTags: CLOUDFORMATION_TAGS }) as Template;
});

/** Every variable name the Lambda config (`loadConfig`) asks for, found by handing it an environment that records each lookup. */
function variablesTheLambdaConfigReads(): Set<string> {
  const read = new Set<string>();
  const recording = new Proxy({} as Record<string, string>, {
    get(_target, name) {
      if (typeof name === "string") read.add(name);
      // A value for every name, so branches that read more (the S3 settings once a bucket is set) are taken.
      return "x";
    },
  });
  loadConfig(recording, { runtime: "lambda" });
  return read;
}

function statementsOf(resource: Resource | undefined): { actions: string[]; resource: unknown }[] {
  return (resource?.Properties.Policies ?? []).flatMap((policy) =>
    policy.Statement.map((statement) => {
      expect(statement.Effect).toBe("Allow");
      return { actions: [statement.Action].flat().sort(), resource: statement.Resource };
    }),
  );
}

describe("deploy/template.yaml", () => {
  it("is a SAM template whose streaming function runs the bundle's handler behind a RESPONSE_STREAM Function URL", async () => {
    expect(template.Transform).toBe("AWS::Serverless-2016-10-31");
    const { CodeUri, Runtime } = template.Globals.Function;
    expect(Runtime).toBe("nodejs22.x");
    expect(resolve(dirname(TEMPLATE_PATH), String(CodeUri))).toBe(dirname(DEFAULT_LAMBDA_OUTFILE));

    const gateway = template.Resources.GatewayFunction;
    expect(gateway?.Type).toBe("AWS::Serverless::Function");
    expect(gateway?.Properties.FunctionUrlConfig).toEqual({ AuthType: "NONE", InvokeMode: "RESPONSE_STREAM" });
    expect(template.Outputs.GatewayUrl?.Value).toEqual({ "Fn::GetAtt": ["GatewayFunctionUrl", "FunctionUrl"] });

    // Handlers are `<file>.<export>`: the bundle's file name and exports of functions/aws/lambda.ts.
    installLambdaRuntime();
    const entry: Record<string, unknown> = await import("../../functions/aws/lambda.ts");
    const bundleName = basename(DEFAULT_LAMBDA_OUTFILE, ".mjs");
    for (const name of ["GatewayFunction", "SweepFunction"]) {
      const [file, exported] = String(template.Resources[name]?.Properties.Handler).split(".");
      expect(file).toBe(bundleName);
      expect(typeof entry[exported ?? ""], `${name}'s handler ${exported}`).toBe("function");
    }
  });

  it("sets exactly the variables the Lambda config reads, less those that do not belong in a deployment", () => {
    const variables = template.Globals.Function.Environment.Variables;
    const read = variablesTheLambdaConfigReads();
    const expected = [...read].filter((name) => !(name in NOT_IN_TEMPLATE)).sort();
    expect(Object.keys(variables).sort()).toEqual(expected);
    // Nothing excluded is stale: each exclusion is a variable the config really reads.
    for (const name of Object.keys(NOT_IN_TEMPLATE)) expect(read, name).toContain(name);
  });

  it("names the stack's own bucket and table, and makes the secret NoEcho", () => {
    const variables = template.Globals.Function.Environment.Variables;
    expect(variables.S3_BUCKET).toEqual({ Ref: "ObjectsBucket" });
    expect(variables.DYNAMODB_TABLE).toEqual({ Ref: "MetadataTable" });
    expect(variables.REPLAY_STORE).toBe("dynamodb");
    expect(variables.PRESIGN_SECRET).toEqual({ Ref: "PresignSecret" });
    expect(template.Parameters.PresignSecret?.NoEcho).toBe(true);
  });

  it("declares the table with the key schema and TTL attribute the DynamoDB backends use", () => {
    const table = template.Resources.MetadataTable;
    expect(table?.Type).toBe("AWS::DynamoDB::Table");
    expect(table?.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
    expect(template.Resources.ObjectsBucket?.Type).toBe("AWS::S3::Bucket");
  });

  it("aborts incomplete multipart uploads after 7 days, past the longest upload session (6 days), as a backstop for the sweep", () => {
    const lifecycle = template.Resources.ObjectsBucket?.Properties?.LifecycleConfiguration as { Rules: unknown[] } | undefined;
    expect(lifecycle?.Rules).toContainEqual({
      Id: "abort-incomplete-multipart-uploads",
      Status: "Enabled",
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
  });

  it("grants each function only the calls its backends make, on the stack's own bucket and table", () => {
    const objects = { "Fn::Sub": "${ObjectsBucket.Arn}/*" };
    const bucket = { "Fn::GetAtt": ["ObjectsBucket", "Arn"] };
    const table = { "Fn::GetAtt": ["MetadataTable", "Arn"] };
    expect(statementsOf(template.Resources.GatewayFunction)).toEqual([
      { actions: ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"], resource: objects },
      { actions: ["s3:ListBucket"], resource: bucket },
      { actions: ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], resource: table },
    ]);
    expect(statementsOf(template.Resources.SweepFunction)).toEqual([
      { actions: ["s3:AbortMultipartUpload", "s3:DeleteObject"], resource: objects },
      { actions: ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], resource: table },
    ]);
    expect(template.Resources.GatewayFunctionUrlInvoke?.Properties).toEqual({
      Action: "lambda:InvokeFunction",
      FunctionName: { Ref: "GatewayFunction" },
      Principal: "*",
      InvokedViaFunctionUrl: true,
    });
  });

  it("runs the sweep function at the sweep period of every runtime, as wrangler.toml's cron trigger does", () => {
    const events = template.Resources.SweepFunction?.Properties.Events as Record<string, { Type: string; Properties: { Schedule: string } }>;
    expect(Object.values(events)).toEqual([{ Type: "Schedule", Properties: { Schedule: `rate(${SWEEP_PERIOD_MS / 60_000} minutes)` } }]);
    const { triggers } = unstable_readConfig({ config: WRANGLER_CONFIG_PATH }, { hideWarnings: true });
    expect(triggers.crons).toEqual([`*/${SWEEP_PERIOD_MS / 60_000} * * * *`]);
  });

  it("uses every parameter it declares", () => {
    for (const name of Object.keys(template.Parameters)) expect(source, name).toMatch(new RegExp(`!Ref ${name}\\b`));
  });
});
