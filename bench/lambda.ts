import { existsSync } from "node:fs";
import { authRounds } from "./auth.ts";
import { type ChildServer, startChild } from "./child.ts";
import { type DownloadRun, type DownloadTarget, type DownloadVariant, downloadOnce, downloadRounds } from "./downloads.ts";
import { type BenchObject, MIB, putVerified } from "./objects.ts";
import type { Plan } from "./plan.ts";
import type { MemorySampler } from "./process-memory.ts";
import type { Report } from "./report.ts";
import { addAuthSection, addDownloadSection, authRatios, downloadRatios } from "./rows.ts";

/** The Lambda build's entry points; without them there is nothing to measure. */
const LAMBDA_BUILD_FILES = ["functions/aws/lambda.ts", "functions/aws/node-server.ts", "functions/aws/backends.ts"];
const AWS_STAND_INS = new URL("./aws-stand-ins.ts", import.meta.url).pathname;
const AWS_GATEWAY = new URL("./aws-gateway.ts", import.meta.url).pathname;
/** DigestStream is workerd's; the raw put has no counterpart needed by the Lambda rows. */
const LAMBDA_VARIANTS: readonly DownloadVariant[] = ["verified", "raw", "buffered", "read-hash", "hash-memory"];
const ADMIN_KEYID = "bench-admin";
/** 2 GiB: room for the 1 GiB object (the product default is 100 MiB). */
const MAX_OBJECT_BYTES = String(2 * 1024 * MIB);

export interface LambdaInput {
  small: BenchObject;
  large: BenchObject;
  plan: Plan;
  sampler: MemorySampler;
  progress: (message: string) => void;
}

interface GatewayOrigins {
  origin: string;
  benchOrigin: string;
}

/**
 * The Lambda build's download and auth rows: the gateway on Node with the AWS backends against s3rver and
 * dynalite, each in a child process, measured exactly as the Workers rows are. Skipped, and said so, when
 * the Lambda build is not in the checkout.
 */
export async function lambdaSection(report: Report, input: LambdaInput): Promise<{ ran: boolean }> {
  const missing = LAMBDA_BUILD_FILES.filter((file) => !existsSync(new URL(`../${file}`, import.meta.url)));
  if (missing.length > 0) {
    report.skipped.push(`Lambda rows: skipped: Lambda build not present (missing ${missing.join(", ")})`);
    return { ran: false };
  }
  const { small, large, plan, sampler, progress } = input;
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const { x } = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  const signer = { keyid: ADMIN_KEYID, key: { alg: "ed25519" as const, privateKey: pair.privateKey } };

  const downloads = new Map<string, Map<DownloadVariant, DownloadRun[]>>();
  let auth: Awaited<ReturnType<typeof authRounds>>;
  const standIns = await startChild<Record<string, string>>(AWS_STAND_INS, {});
  try {
    const vars = { ...standIns.ready, ADMIN_KEYS: `${ADMIN_KEYID}=${x}`, REPLAY_STORE: "dynamodb", MAX_OBJECT_BYTES };
    let gateway: ChildServer<GatewayOrigins> | undefined;
    try {
      gateway = await startChild<GatewayOrigins>(AWS_GATEWAY, { BENCH_VARS: JSON.stringify(vars) });
      progress(`Node/AWS gateway up at ${gateway.ready.origin} (pid ${gateway.pid}), bench routes at ${gateway.ready.benchOrigin}`);
      const target: DownloadTarget = { ...gateway.ready, signer, processes: { gateway: gateway.pid, proxy: undefined } };
      const sized = [
        [small, plan.lambdaSmallRounds],
        [large, plan.lambdaLargeRounds],
      ] as const;
      for (const [object, rounds] of sized) {
        if (rounds === 0) continue;
        progress(`uploading ${object.key} (${object.size / MIB} MiB) to s3rver through the verified PUT`);
        await putVerified(target, object);
        const check = await downloadOnce(target, sampler, "verified", object, true);
        if (check.sha256 !== object.sha256.toString("hex")) throw new Error(`verified GET of ${object.key} returned other bytes`);
        const runs = await downloadRounds(target, sampler, object, rounds, LAMBDA_VARIANTS, (round) =>
          progress(`Lambda build download ${object.size / MIB} MiB: round ${round + 1}/${rounds}`),
        );
        downloads.set(object.label, runs);
      }
      progress(`Lambda build auth: ${plan.authRounds} rounds x concurrency ${plan.concurrencies.join(", ")} x ${plan.authMs} ms per variant`);
      auth = await authRounds({ origin: target.origin, signer, claimUrl: `${target.benchOrigin}/bench/claim` }, plan.concurrencies, plan.authRounds, plan.authMs);
    } finally {
      await gateway?.stop();
    }
  } finally {
    await standIns.stop();
  }

  const section = (object: BenchObject, rounds: number) => `Lambda build (Node + AWS backends, s3rver), download ${object.size / MIB} MiB (${rounds} rounds)`;
  const smallRuns = downloads.get(small.label);
  const largeRuns = downloads.get(large.label);
  const smallMedians = smallRuns ? addDownloadSection(report, section(small, plan.lambdaSmallRounds), small, smallRuns) : undefined;
  const largeMedians = largeRuns ? addDownloadSection(report, section(large, plan.lambdaLargeRounds), large, largeRuns) : undefined;
  if (smallMedians) downloadRatios(report.medians, "lambda_", smallMedians, largeMedians);
  const authSection = `Lambda build auth, DynamoDB replay store on dynalite (${plan.authRounds} rounds of ${plan.authMs / 1000} s)`;
  authRatios(report.medians, "lambda_", addAuthSection(report, authSection, auth, plan.concurrencies));
  return { ran: true };
}
