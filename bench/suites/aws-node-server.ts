import { existsSync } from "node:fs";
import { generateEd25519Key } from "../../client/sdk/keys.ts";
import { GIB, MIB } from "../../shared/bytes.ts";
import { toHex } from "../../shared/crypto/encoding.ts";
import { authRounds } from "../measures/auth.ts";
import { type ChildServer, startChild } from "../harness/child.ts";
import { type DirectRuns, directRounds } from "../measures/direct.ts";
import { type DirectCliRun, directCliDownload } from "../measures/direct-cli.ts";
import { type DownloadRun, type DownloadTarget, type DownloadVariant, downloadOnce, downloadRounds } from "../measures/downloads.ts";
import { type BenchObject, putVerified } from "../harness/objects.ts";
import type { Plan } from "../plan.ts";
import type { MemorySampler } from "../harness/process-memory.ts";
import type { Report } from "../report/report.ts";
import {
  addAuthSection,
  addDirectCliSection,
  addDirectSection,
  addDownloadSection,
  addLoadSection,
  authRatios,
  type DownloadMedians,
  downloadRatios,
} from "../report/rows.ts";
import { type BurstResult, concurrentBurst, LOAD_BURST } from "../measures/load.ts";
import { addAuthCpuRows } from "./aws-auth-cpu.ts";
import { type AwsLambdaRuns, addAwsLambdaRows, measureAwsLambda } from "./aws-lambda.ts";

/** The Node server and the AWS backends these rows run; without them there is nothing to measure. */
const AWS_NODE_SERVER_FILES = ["functions/aws/node-server.ts", "functions/aws/backends.ts"];
const AWS_STAND_INS = new URL("../harness/child-aws-stand-ins.ts", import.meta.url).pathname;
const AWS_NODE_SERVER = new URL("../harness/child-aws-node-server.ts", import.meta.url).pathname;
/** DigestStream is workerd's; the raw put has no counterpart needed by these rows. */
const AWS_NODE_SERVER_VARIANTS: readonly DownloadVariant[] = ["verified", "raw", "buffered", "read-hash", "hash-memory"];
const ADMIN_KEYID = "bench-admin";
/** 2 GiB: room for the 1 GiB object (the product default is 100 MiB). */
const MAX_OBJECT_BYTES = String(2 * GIB);

export interface AwsNodeServerInput {
  /** Scratch space for the CLI's downloaded file. */
  dir: string;
  small: BenchObject;
  large: BenchObject;
  /** Committed through a session and fetched by the CLI process (`plan.directCliLarge` bytes). */
  directCliLarge: BenchObject;
  plan: Plan;
  sampler: MemorySampler;
  progress: (message: string) => void;
}

interface GatewayOrigins {
  origin: string;
  benchOrigin: string;
}

/**
 * The AWS rows: the gateway's Node server (`functions/aws/node-server.ts`: the code the Lambda function runs, without
 * the Lambda event adapter) with the AWS backends against s3rver and dynalite, each in a child process, measured
 * exactly as the Workers rows are. Named for what they run: the `aws_node_server_*` rows never go through the Lambda
 * handler; the `aws_lambda_*` rows (suites/aws-lambda.ts) do, on the same stand-ins. Skipped, and said so, when those
 * files are not in the checkout.
 */
export async function awsNodeServerSection(report: Report, input: AwsNodeServerInput): Promise<{ ran: boolean; lambdaRan: boolean }> {
  const missing = AWS_NODE_SERVER_FILES.filter((file) => !existsSync(new URL(`../../${file}`, import.meta.url)));
  if (missing.length > 0) {
    report.skipped.push(`AWS Node server rows: skipped: not in the checkout (missing ${missing.join(", ")})`);
    return { ran: false, lambdaRan: false };
  }
  const { small, large, directCliLarge, plan, sampler, progress } = input;
  const { jwk, pair } = await generateEd25519Key(ADMIN_KEYID);
  const signer = { keyid: ADMIN_KEYID, key: { alg: "ed25519" as const, privateKey: pair.privateKey } };

  const downloads = new Map<string, Map<DownloadVariant, DownloadRun[]>>();
  let auth: Awaited<ReturnType<typeof authRounds>>;
  let load: BurstResult;
  let lambda: AwsLambdaRuns | undefined;
  let direct: DirectRuns | undefined;
  let directCli: DirectCliRun | undefined;
  const standIns = await startChild<Record<string, string>>(AWS_STAND_INS, {});
  try {
    // Storage presign on, for direct download plans; no other row asks for a storage URL.
    const vars = { ...standIns.ready, ADMIN_KEYS: `${ADMIN_KEYID}=${jwk.x}`, REPLAY_STORE: "dynamodb", MAX_OBJECT_BYTES, PRESIGN_STORAGE: "on" };
    let gateway: ChildServer<GatewayOrigins> | undefined;
    try {
      gateway = await startChild<GatewayOrigins>(AWS_NODE_SERVER, { BENCH_VARS: JSON.stringify(vars) });
      progress(`Node/AWS gateway up at ${gateway.ready.origin} (pid ${gateway.pid}), bench routes at ${gateway.ready.benchOrigin}`);
      const target: DownloadTarget = { ...gateway.ready, signer, processes: { gateway: gateway.pid, proxy: undefined } };
      const sized = [
        [small, plan.awsNodeServerSmallRounds],
        [large, plan.awsNodeServerLargeRounds],
      ] as const;
      for (const [object, rounds] of sized) {
        if (rounds === 0) continue;
        progress(`uploading ${object.key} (${object.size / MIB} MiB) to s3rver through the verified PUT`);
        await putVerified(target, object);
        const check = await downloadOnce(target, sampler, "verified", object, true);
        if (check.sha256 !== toHex(object.sha256)) throw new Error(`verified GET of ${object.key} returned other bytes`);
        const runs = await downloadRounds(target, sampler, object, rounds, AWS_NODE_SERVER_VARIANTS, (round) =>
          progress(`AWS Node server download ${object.size / MIB} MiB: round ${round + 1}/${rounds}`),
        );
        downloads.set(object.label, runs);
      }
      if (plan.awsNodeServerLargeRounds > 0) {
        direct = await directRounds(target, sampler, large, plan.awsNodeServerLargeRounds, (round) =>
          progress(`AWS Node server direct download ${large.size / MIB} MiB vs the verified stream: round ${round + 1}/${plan.awsNodeServerLargeRounds}`),
        );
      }
      if (plan.directCliLarge > 0) {
        progress(
          `AWS Node server: ${directCliLarge.key} (${directCliLarge.size / MIB} MiB) through an upload session, then verigate get --direct --parallel 4`,
        );
        directCli = await directCliDownload(target, jwk, directCliLarge, input.dir);
      } else {
        report.skipped.push("AWS Node server, verigate get --direct of a multi-gigabyte object: full run only");
      }
      progress(`AWS Node server auth: ${plan.authRounds} rounds x concurrency ${plan.concurrencies.join(", ")} x ${plan.authMs} ms per variant`);
      auth = await authRounds(
        { origin: target.origin, signer, claimUrl: `${target.benchOrigin}/bench/claim`, cpu: { gateway: gateway.pid, store: standIns.pid } },
        plan.concurrencies,
        plan.authRounds,
        plan.authMs,
      );
    } finally {
      await gateway?.stop();
    }
    // A fresh server for the burst, so its growth is measured over a baseline no earlier transfer inflated.
    const loadGateway = await startChild<GatewayOrigins>(AWS_NODE_SERVER, { BENCH_VARS: JSON.stringify(vars) });
    try {
      progress(
        `AWS Node server load: ${LOAD_BURST.uploads} uploads + ${LOAD_BURST.downloads} downloads of ${LOAD_BURST.size / MIB} MiB at once (pid ${loadGateway.pid})`,
      );
      load = await concurrentBurst({ origin: loadGateway.ready.origin, signer, gatewayPid: loadGateway.pid, log: loadGateway.output }, sampler, LOAD_BURST);
    } finally {
      await loadGateway.stop();
    }
    // The Lambda handler on the same stand-ins and objects, the Node server stopped so it takes no CPU.
    lambda = await measureAwsLambda(report, {
      vars,
      storePid: standIns.pid,
      signer,
      objects: [[small, plan.awsNodeServerSmallRounds]],
      plan,
      sampler,
      progress,
    });
  } finally {
    await standIns.stop();
  }

  const section = (object: BenchObject, rounds: number) => `AWS backends on the Node server (s3rver), download ${object.size / MIB} MiB (${rounds} rounds)`;
  const smallRuns = downloads.get(small.label);
  const largeRuns = downloads.get(large.label);
  const smallMedians = smallRuns ? addDownloadSection(report, section(small, plan.awsNodeServerSmallRounds), small, smallRuns) : undefined;
  const largeMedians = largeRuns ? addDownloadSection(report, section(large, plan.awsNodeServerLargeRounds), large, largeRuns) : undefined;
  if (smallMedians) downloadRatios(report.medians, "aws_node_server_", smallMedians, largeMedians);
  if (direct) {
    addDirectSection(
      report,
      `AWS backends on the Node server (s3rver), direct download of ${large.size / MIB} MiB vs the verified stream (${direct.directMibps.length} rounds)`,
      direct,
    );
  }
  if (directCli) {
    addDirectCliSection(
      report,
      `AWS backends on the Node server (s3rver), verigate get --direct of ${directCliLarge.size / MIB} MiB committed through a session (1 run)`,
      directCliLarge,
      directCli,
    );
  }
  const authSection = `AWS backends on the Node server, auth, DynamoDB replay store on dynalite (${plan.authRounds} rounds of ${plan.authMs / 1000} s)`;
  authRatios(report.medians, "aws_node_server_", addAuthSection(report, authSection, auth, plan.concurrencies));
  addAuthCpuRows(
    report,
    `${authSection}, CPU per request (gateway, dynalite, the client, its requests signed before each run)`,
    "aws_node_server_",
    auth,
    plan.concurrencies,
  );
  addLoadSection(report, "node", "AWS backends on the Node server", LOAD_BURST, load);
  const nodeServer = new Map<string, DownloadMedians>();
  if (smallMedians) nodeServer.set(small.label, smallMedians);
  if (largeMedians) nodeServer.set(large.label, largeMedians);
  if (lambda) addAwsLambdaRows(report, lambda, [small], plan, nodeServer);
  return { ran: true, lambdaRan: lambda !== undefined };
}
