import { request } from "node:http";
import { performance } from "node:perf_hooks";
import { type Signer, expectTransfer, signedHeaders } from "../harness/client.ts";
import { type BenchObject, mibPerSecond } from "../harness/objects.ts";
import { type MemorySampler, type ProcessPeak, type ServingProcesses, growthMib, peakMib } from "../harness/process-memory.ts";

/**
 * The download variants, all signed and all reading the same manifest and blob, so they differ only in
 * what happens to the bytes. `body` variants send the object; the others answer a small JSON.
 */
export const DOWNLOAD_VARIANTS = [
  { id: "verified", label: "verified GET /v1/objects", body: true },
  { id: "raw", label: "raw pass-through (ceiling)", body: true },
  { id: "buffered", label: "buffer-then-verify", body: true },
  { id: "read-hash", label: "read+hash per chunk, nothing sent", body: false },
  { id: "read-only", label: "read per chunk into JS, nothing hashed or sent", body: false },
  { id: "write-memory", label: "chunk writes from memory into the response pipe, no read", body: true },
  { id: "digest-stream", label: "DigestStream over the R2 body", body: false },
  { id: "hash-memory", label: "native SHA-256 from memory, timed in the gateway", body: false },
] as const;

export type DownloadVariant = (typeof DOWNLOAD_VARIANTS)[number]["id"];

export interface DownloadTarget {
  /** The product routes. */
  origin: string;
  /** The `/bench/*` routes: the same server on Workers, a second one on the same backends for the Node build. */
  benchOrigin: string;
  signer: Signer;
  /** The processes serving the requests; `worker` is the one running the gateway's code. */
  processes: ServingProcesses;
}

export interface DownloadRun {
  mibps: number;
  ttfbMs: number;
  totalMs: number;
  /** Growth of the Worker's workerd process over its RSS just before the request. */
  growthMib: number;
  /** The same for wrangler's proxy workerd in front of it. */
  proxyGrowthMib: number;
  /** The Worker process's peak RSS, MiB. */
  peakMib: number;
  workerCpuMs: number;
  workerBusiestThreadMs: number;
}

function variantUrl(target: DownloadTarget, variant: DownloadVariant, key: string): string {
  return variant === "verified" ? `${target.origin}/v1/objects/${key}` : `${target.benchOrigin}/bench/${variant}/${key}`;
}

function sampledPids(processes: ServingProcesses): number[] {
  return processes.proxy === undefined ? [processes.gateway] : [processes.gateway, processes.proxy];
}

/** One signed download of `object` through `variant`, timed by the client, with the serving processes sampled. */
export async function downloadOnce(
  target: DownloadTarget,
  sampler: MemorySampler,
  variant: DownloadVariant,
  object: BenchObject,
  hash = false,
): Promise<DownloadRun & { sha256?: string | undefined }> {
  const url = variantUrl(target, variant, object.key);
  const headers = await signedHeaders(target.signer, "GET", url);
  const body = DOWNLOAD_VARIANTS.find((entry) => entry.id === variant)?.body ?? false;
  const { result, peaks } = await sampler.measure(sampledPids(target.processes), () => expectTransfer(url, 200, { headers, hash, keepText: !body }));
  if (body && result.bytes !== object.size) throw new Error(`${variant} of ${object.key} sent ${result.bytes} of ${object.size} bytes`);
  // Native hashing is timed inside the gateway: the request around it is not hashing.
  const totalMs = variant === "hash-memory" ? (JSON.parse(result.text ?? "{}") as { ms: number }).ms : result.totalMs;
  const [worker, proxy] = peaks as [ProcessPeak, ProcessPeak | undefined];
  return {
    mibps: mibPerSecond(object.size, totalMs),
    ttfbMs: result.ttfbMs,
    totalMs,
    growthMib: growthMib(worker),
    proxyGrowthMib: proxy ? growthMib(proxy) : 0,
    peakMib: peakMib(worker),
    workerCpuMs: worker.cpuMs,
    workerBusiestThreadMs: worker.busiestThreadCpuMs,
    sha256: result.sha256,
  };
}

/** Every variant once per round, in the same order each round (A B A B ...), so drift hits all alike. */
export async function downloadRounds(
  target: DownloadTarget,
  sampler: MemorySampler,
  object: BenchObject,
  rounds: number,
  variants: readonly DownloadVariant[],
  onRound: (round: number) => void,
): Promise<Map<DownloadVariant, DownloadRun[]>> {
  const runs = new Map<DownloadVariant, DownloadRun[]>(variants.map((variant) => [variant, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) runs.get(variant)?.push(await downloadOnce(target, sampler, variant, object));
    onRound(round);
  }
  return runs;
}

/** Time to the first body byte of one signed GET, then the connection is dropped (the rest is not wanted). */
async function firstByteMs(target: DownloadTarget, variant: DownloadVariant, object: BenchObject): Promise<number> {
  const url = variantUrl(target, variant, object.key);
  const headers = await signedHeaders(target.signer, "GET", url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        req.destroy();
        reject(new Error(`${url} answered ${res.statusCode}`));
        return;
      }
      res.once("data", () => {
        resolve(performance.now() - started);
        req.destroy();
      });
    });
    req.once("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" ? undefined : reject(error)));
    req.end();
  });
}

/** Lets the gateway finish tearing down a dropped download before the next measurement starts. */
const SETTLE_AFTER_DROP_MS = 50;

/** Interleaved first-byte times of the verified and raw variants: many cheap samples, since a few ms matter here. */
export async function firstBytePairs(target: DownloadTarget, object: BenchObject, pairs: number): Promise<{ verified: number[]; raw: number[] }> {
  const verified: number[] = [];
  const raw: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    verified.push(await firstByteMs(target, "verified", object));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_AFTER_DROP_MS));
    raw.push(await firstByteMs(target, "raw", object));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_AFTER_DROP_MS));
  }
  return { verified, raw };
}
