import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { buildLambda } from "../../../scripts/lambda-bundle.ts";
import { LOCAL_AWS_REGION } from "../../../scripts/local-aws.ts";
import { newEd25519Key } from "../../support/keys.ts";
import { type AwsGateway, startAwsStores } from "./aws-stores.ts";
import { cachedBuild } from "./build-cache.ts";
import { type LogEvent, parseLogLine, wireClient } from "./wire.ts";
import { freePort } from "./wrangler-dev.ts";

const FUNCTION_URL = fileURLToPath(new URL("../../../scripts/lambda-function-url.ts", import.meta.url));

/**
 * What the bundle is made from. Kept between test files and runs like the worker bundle: besides the build
 * itself, a bundle at one path lets the Function URL's V8 compile cache serve every later cold start.
 */
const BUNDLE_SOURCES = { dirs: ["functions", "shared"], files: ["package-lock.json", "scripts/lambda-bundle.ts"] };

/** Built once per test file at most, then taken from the cache. */
let bundle: Promise<string> | undefined;

function lambdaBundle(): Promise<string> {
  bundle ??= (async () => {
    const dir = await cachedBuild("verigate-lambda-builds", BUNDLE_SOURCES, async (outdir) => {
      await buildLambda(join(outdir, "index.mjs"));
    });
    return join(dir, "index.mjs");
  })();
  return bundle;
}

/**
 * The shipped Lambda handler, built as `npm run build:lambda` builds it, behind a loopback Function URL
 * (`scripts/lambda-function-url.ts`, its own process, so the function's environment and console are its own), on fresh s3rver and
 * dynalite servers like the Node build's, with a fresh admin key. `vars` are PROTOCOL section 7 variables added to
 * (or replacing) what the SAM template sets.
 */
export async function startLambdaGateway(vars: Record<string, string> = {}): Promise<AwsGateway> {
  const [scriptPath, stores, adminKey, port] = await Promise.all([lambdaBundle(), startAwsStores(), newEd25519Key(), freePort()]);
  const origin = `http://127.0.0.1:${port}`;
  const admin = { keyid: "wire-admin", key: { alg: "ed25519" as const, privateKey: adminKey.privateKey }, publicKey: adminKey.publicKey };
  const { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, ...endpoints } = stores.vars;
  const env = {
    // What the Lambda runtime sets: the region, the function's name and the execution role's credentials, which
    // sign S3 requests and storage presigned URLs as on a deployed function (the template sets no S3 keys).
    AWS_REGION: LOCAL_AWS_REGION,
    AWS_LAMBDA_FUNCTION_NAME: "verigate",
    AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY,
    REPLAY_STORE: "dynamodb",
    ADMIN_KEYS: `${admin.keyid}=${admin.publicKey}`,
    // The template's PublicOrigin, as behind any front with an origin of its own (deploy/LAMBDA.md, "In front of
    // the Function URL"): links name this origin, where the gateway alone would name https://<Function URL domain>.
    PUBLIC_ORIGIN: origin,
    ...endpoints,
    ...vars,
  };
  const logged: LogEvent[] = [];
  let functionUrl: { stop: () => Promise<void> };
  try {
    functionUrl = await startFunctionUrl(scriptPath, port, env, logged);
  } catch (error) {
    await stores.stop();
    throw error;
  }
  return {
    ...wireClient(origin, admin, () => logged),
    s3Endpoint: stores.vars.S3_ENDPOINT,
    bucket: stores.bucket,
    kv: stores.kv,
    async stop() {
      await functionUrl.stop();
      await stores.stop();
    },
  };
}

/** Starts `scripts/lambda-function-url.ts` for `scriptPath` on `port` with `env` alone, appending the gateway's log lines to `logged`. */
async function startFunctionUrl(scriptPath: string, port: number, env: Record<string, string>, logged: LogEvent[]): Promise<{ stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [FUNCTION_URL, scriptPath, String(port)], { env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      const event = parseLogLine(line);
      if (event) logged.push(event);
      else output.push(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    void exited.then(() => reject(new Error(`the Function URL exited before listening:\n${output.join("\n")}`)));
  });
  return {
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
