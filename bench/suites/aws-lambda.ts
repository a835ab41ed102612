import { existsSync } from "node:fs";
import { MIB } from "../../shared/bytes.ts";
import { LOCAL_AWS_REGION } from "../../scripts/local-aws.ts";
import type { Signer } from "../harness/client.ts";
import { startChild } from "../harness/child.ts";
import type { BenchObject } from "../harness/objects.ts";
import type { MemorySampler } from "../harness/process-memory.ts";
import { type AuthRuns, authRounds } from "../measures/auth.ts";
import { type DownloadRun, type DownloadVariant, downloadRounds } from "../measures/downloads.ts";
import type { Plan } from "../plan.ts";
import type { Report } from "../report/report.ts";
import { addAuthCpuRows } from "./aws-auth-cpu.ts";
import { type DownloadMedians, addAuthSection, addDownloadSection, authRatios, lambdaDownloadRatios } from "../report/rows.ts";

/** The Lambda entry, its bundler and the Function URL stand-in; without them there is nothing to measure. */
const AWS_LAMBDA_FILES = ["functions/aws/lambda.ts", "scripts/lambda-bundle.ts", "scripts/lambda-function-url.ts"];
const AWS_LAMBDA = new URL("../harness/child-aws-lambda.ts", import.meta.url).pathname;
/**
 * Concurrency 10 only: the function limits each execution environment to 1,000 signed requests per 10 s per client
 * and per keyid (functions/aws/backends.ts), which one environment serving a closed loop at concurrency 1 crosses
 * (429), while ten environments share the load below it.
 */
const LAMBDA_AUTH_CONCURRENCIES = [10] as const;
/**
 * Unmeasured slices first: ten cold starts (bundle load, SDK clients, first key read), and each environment is a module
 * instance of its own whose code V8 optimises separately. Measured under load 7: a first 2 s slice at concurrency 10
 * ran signed requests at 14/s (p99 1.9 s), the next ones at 143-172/s.
 */
const WARM_UP_MS = 3000;

export interface AwsLambdaInput {
  /** The stand-ins' variables and the gateway's, as the Node server rows ran with them. */
  vars: Record<string, string>;
  /** The process running dynalite, whose CPU per auth request is recorded. */
  storePid: number;
  signer: Signer;
  /** Objects already uploaded to the stand-ins, with their rounds. */
  objects: readonly (readonly [BenchObject, number])[];
  plan: Plan;
  sampler: MemorySampler;
  progress: (message: string) => void;
}

export interface AwsLambdaRuns {
  downloads: Map<string, Map<DownloadVariant, DownloadRun[]>>;
  auth: AuthRuns;
}

/**
 * The real Lambda handler (`functions/aws/lambda.ts`, bundled as deployed) behind the loopback Function URL, against
 * the same s3rver and dynalite as the Node server rows: verified downloads of the objects those rows uploaded (a
 * Lambda PUT stops at 6 MB), and auth at concurrency 10. Undefined, and said so, when those files are missing.
 */
export async function measureAwsLambda(report: Report, input: AwsLambdaInput): Promise<AwsLambdaRuns | undefined> {
  const missing = AWS_LAMBDA_FILES.filter((file) => !existsSync(new URL(`../../${file}`, import.meta.url)));
  if (missing.length > 0) {
    report.skipped.push(`AWS Lambda rows: skipped: not in the checkout (missing ${missing.join(", ")})`);
    return undefined;
  }
  const { vars, storePid, signer, objects, plan, sampler, progress } = input;
  const { S3_ACCESS_KEY_ID = "", S3_SECRET_ACCESS_KEY = "", ...rest } = vars;
  // What the Lambda runtime sets (region, function name, the execution role's credentials), as the tests' harness does.
  const functionVars = {
    ...rest,
    AWS_REGION: LOCAL_AWS_REGION,
    AWS_LAMBDA_FUNCTION_NAME: "verigate-bench",
    AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY,
  };
  const lambda = await startChild<{ origin: string; functionPid: number }>(AWS_LAMBDA, { BENCH_VARS: JSON.stringify(functionVars) });
  try {
    const { origin, functionPid } = lambda.ready;
    progress(`Lambda handler behind the loopback Function URL at ${origin} (pid ${functionPid})`);
    // No /bench routes run inside the function: the raw and bound figures these rows compare with are the Node server's.
    const target = { origin, benchOrigin: origin, signer, processes: { gateway: functionPid, proxy: undefined } };
    const downloads = new Map<string, Map<DownloadVariant, DownloadRun[]>>();
    for (const [object, rounds] of objects) {
      if (rounds === 0) continue;
      downloads.set(
        object.label,
        await downloadRounds(target, sampler, object, rounds, ["verified"], (round) =>
          progress(`AWS Lambda download ${object.size / MIB} MiB: round ${round + 1}/${rounds}`),
        ),
      );
    }
    await authRounds({ origin, signer }, LAMBDA_AUTH_CONCURRENCIES, 1, WARM_UP_MS);
    progress(`AWS Lambda auth: ${plan.authRounds} rounds x concurrency ${LAMBDA_AUTH_CONCURRENCIES.join(", ")} x ${plan.authMs} ms per variant`);
    const auth = await authRounds({ origin, signer, cpu: { gateway: functionPid, store: storePid } }, LAMBDA_AUTH_CONCURRENCIES, plan.authRounds, plan.authMs);
    return { downloads, auth };
  } finally {
    await lambda.stop();
  }
}

/** The Lambda rows and their named ratios, `nodeServer` giving the raw S3 pass-through and read+hash bound of each size. */
export function addAwsLambdaRows(
  report: Report,
  runs: AwsLambdaRuns,
  objects: readonly BenchObject[],
  plan: Plan,
  nodeServer: Map<string, DownloadMedians>,
): void {
  for (const object of objects) {
    const objectRuns = runs.downloads.get(object.label);
    if (!objectRuns) continue;
    const section = `AWS Lambda handler behind the loopback Function URL (s3rver), download ${object.size / MIB} MiB (${objectRuns.get("verified")?.length ?? 0} rounds)`;
    const medians = addDownloadSection(report, section, object, objectRuns);
    lambdaDownloadRatios(report.medians, object === objects[0] ? "" : `_${object.label}`, medians, nodeServer.get(object.label));
  }
  const authSection = `AWS Lambda handler behind the loopback Function URL, auth, DynamoDB replay store on dynalite (${plan.authRounds} rounds of ${plan.authMs / 1000} s; one execution environment per concurrent request)`;
  authRatios(report.medians, "aws_lambda_", addAuthSection(report, authSection, runs.auth, LAMBDA_AUTH_CONCURRENCIES));
  addAuthCpuRows(
    report,
    `${authSection}, CPU per request (the Function URL process, dynalite, the client, its requests signed before each run)`,
    "aws_lambda_",
    runs.auth,
    LAMBDA_AUTH_CONCURRENCIES,
  );
}
