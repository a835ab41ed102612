import { createHash } from "node:crypto";
import { Agent, type ClientRequest, request } from "node:http";
import { performance } from "node:perf_hooks";
import { MIB } from "../../shared/bytes.ts";
import { toHex } from "../../shared/crypto/encoding.ts";
import { type Signer, signedHeaders } from "../harness/client.ts";
import { benchObject, type BenchObject, putVerified } from "../harness/objects.ts";
import { payload } from "../harness/payload.ts";
import { type MemorySampler, peakMib, rssMib } from "../harness/process-memory.ts";
import { percentile } from "../report/stats.ts";

export interface LoadOptions {
  url: string;
  method?: string;
  concurrency: number;
  durationMs: number;
  /** Headers for one request, made fresh each time (a signature is good for one request only). */
  headers: () => Promise<Record<string, string>> | Record<string, string>;
  expectStatus: number;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * A closed loop: `concurrency` clients each send a request, wait for the whole answer, then send the next,
 * for `durationMs`. Latency runs from just before the request is written (after its headers were made, so
 * the client's signing is not counted) to the end of the response. Any unexpected status fails the run.
 */
export async function closedLoop(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const headers = await options.headers();
      const sent = performance.now();
      const status = await exchange(options.url, options.method ?? "GET", headers, agent);
      if (status !== options.expectStatus) throw new Error(`${options.url} answered ${status}, expected ${options.expectStatus}`);
      latencies.push(performance.now() - sent);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, client));
  } finally {
    agent.destroy();
  }
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    requestsPerSecond: latencies.length / (elapsedMs / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

function exchange(url: string, method: string, headers: Record<string, string>, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
      res.once("error", reject);
    });
    req.once("error", reject);
    req.end();
  });
}

/** What a burst of concurrent transfers is run against. */
export interface BurstTarget {
  origin: string;
  signer: Signer;
  /** The process holding the gateway's memory: workerd's, or the Node server's. */
  gatewayPid: number;
  /** Everything the gateway logged so far, where its `request_shed` lines are read. */
  log: () => string;
}

export interface BurstPlan {
  uploads: number;
  downloads: number;
  /** Bytes of each upload and of the object every download reads. */
  size: number;
}

/** How each transfer of a burst ended, and what the gateway's memory did meanwhile. */
export interface BurstResult {
  /** 201, and the key then reads back as the bytes uploaded. */
  committed: number;
  /** 200 with every byte, hashing to the object's digest. */
  downloaded: number;
  /** 503 `overloaded` (uploads and downloads); the key of a shed upload still reads back as its previous version. */
  shedUploads: number;
  /**
   * Of `shedUploads`, those whose 503 never reached the client: the connection was reset under a body still being
   * sent. Counted as shed only where the gateway logged `request_shed` for that key and the key reads back as its
   * previous version. Seen under `wrangler dev` (every shed 16 MiB PUT), never on the Node server.
   */
  unansweredShedUploads: number;
  shedDownloads: number;
  /** Anything else: another status, a cut connection, a short or wrong body, or a key that reads back as neither version. */
  failedUploads: number;
  failedDownloads: number;
  /** Peak RSS of the gateway process during the burst over its RSS just before it. */
  rssGrowthMib: number;
  /** The highest number of transfers the client had in flight at once (all of them, unless some ended before others began). */
  peakConcurrent: number;
}

const LOAD_PREFIX = "load";

/** The load: 40 concurrent 16 MiB uploads and 40 concurrent 16 MiB downloads, in every run (quick ones too). */
export const LOAD_BURST: BurstPlan = { uploads: 40, downloads: 40, size: 16 * MIB };

/**
 * `plan.uploads` verified PUTs and `plan.downloads` verified GETs of `plan.size` bytes each, all started at once,
 * while the gateway's RSS is sampled. Every upload key first holds a small previous version; afterwards each key must
 * read back as the new bytes when its PUT answered 201 and as the previous version when it was shed, which is how
 * "every accepted upload commits or leaves the old version" is checked. Shed requests are counted, not retried.
 */
export async function concurrentBurst(target: BurstTarget, sampler: MemorySampler, plan: BurstPlan): Promise<BurstResult> {
  const fresh = benchObject(`${LOAD_PREFIX}-new`, plan.size);
  const previous = benchObject(`${LOAD_PREFIX}-previous`, 4096);
  const readObject = benchObject(`${LOAD_PREFIX}-read`, plan.size);
  const uploadKeys = Array.from({ length: plan.uploads }, (_, index) => `${LOAD_PREFIX}/up-${index}`);
  for (const key of uploadKeys) await putVerified(target, previous, key);
  await putVerified(target, readObject);
  // One of each before the baseline, so the burst's growth is not the code paths' first allocation.
  await putVerified(target, fresh, `${LOAD_PREFIX}/warmup`);
  await fetchObject(target, readObject.key);
  const baselineMib = rssMib(target.gatewayPid);

  let inFlight = 0;
  let peakConcurrent = 0;
  const counted = async <T>(transfer: Promise<T>): Promise<T> => {
    peakConcurrent = Math.max(peakConcurrent, ++inFlight);
    try {
      return await transfer;
    } finally {
      inFlight--;
    }
  };
  const { result, peaks } = await sampler.measure([target.gatewayPid], () =>
    // Interleaved, so neither kind reaches the gateway first and takes the whole budget.
    Promise.all([
      Promise.all(uploadKeys.map((key, index) => after(index, () => counted(sendUpload(target, fresh, key))))),
      Promise.all(Array.from({ length: plan.downloads }, (_, index) => after(index, () => counted(fetchObject(target, readObject.key))))),
    ]),
  );
  const [uploadStatuses, downloads] = result;
  const peak = peaks[0];
  const rssGrowthMib = peak ? peakMib(peak) - baselineMib : Number.NaN;

  const shedPaths = shedPathsIn(target.log());
  let committed = 0;
  let shedUploads = 0;
  let unansweredShedUploads = 0;
  let failedUploads = 0;
  for (const [index, status] of uploadStatuses.entries()) {
    const key = uploadKeys[index] as string;
    const current = await fetchObject(target, key);
    const reads = current.sha256 === toHex(fresh.sha256) ? "new" : current.sha256 === toHex(previous.sha256) ? "previous" : "neither";
    if (status === 201 && reads === "new") committed++;
    else if (status === 503 && reads === "previous") shedUploads++;
    else if (status === 0 && reads === "previous" && shedPaths.has(`/v1/objects/${key}`)) {
      shedUploads++;
      unansweredShedUploads++;
    } else failedUploads++;
  }
  const wanted = toHex(readObject.sha256);
  return {
    committed,
    downloaded: downloads.filter((download) => download.status === 200 && download.sha256 === wanted).length,
    shedUploads,
    unansweredShedUploads,
    shedDownloads: downloads.filter((download) => download.status === 503).length,
    failedUploads,
    failedDownloads: downloads.filter((download) => download.status !== 503 && !(download.status === 200 && download.sha256 === wanted)).length,
    rssGrowthMib,
    peakConcurrent,
  };
}

/** The paths of the requests the gateway logged as shed (its JSON log lines, wherever the runtime prints them). */
function shedPathsIn(log: string): Set<string> {
  const paths = new Set<string>();
  for (const line of log.split("\n")) {
    if (!line.includes('"request_shed"')) continue;
    const path = /"path":"([^"]+)"/.exec(line)?.[1];
    if (path) paths.add(path);
  }
  return paths;
}

/** Starts `start` after `turns` macrotasks, so the n-th upload and the n-th download leave the client together. */
async function after<T>(turns: number, start: () => Promise<T>): Promise<T> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
  return start();
}

/** A verified PUT of `object`'s bytes under `key`; its status, or 0 when the connection failed before one arrived. */
async function sendUpload(target: BurstTarget, object: BenchObject, key: string): Promise<number> {
  const url = `${target.origin}/v1/objects/${key}`;
  const headers = { ...(await signedHeaders(target.signer, "PUT", url, object.sha256)), "content-length": String(object.size) };
  return new Promise((resolve) => {
    const req = request(url, { method: "PUT", headers, agent: false }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
      res.once("error", () => resolve(0));
    });
    // A shed upload is answered before its body is read; the server may then close while the body is still going out.
    req.once("error", () => resolve(0));
    void writePieces(req, payload(object.seed, object.size));
  });
}

async function writePieces(req: ClientRequest, pieces: Iterable<Buffer>): Promise<void> {
  for (const piece of pieces) {
    if (req.destroyed) return;
    if (!req.write(piece)) await new Promise((resolve) => req.once("drain", resolve));
  }
  req.end();
}

/** A verified GET; its status and the SHA-256 of the body that arrived whole (undefined when cut short or failed). */
function fetchObject(target: BurstTarget, key: string): Promise<{ status: number; sha256: string | undefined }> {
  const url = `${target.origin}/v1/objects/${key}`;
  return signedHeaders(target.signer, "GET", url).then(
    (headers) =>
      new Promise((resolve) => {
        const req = request(url, { headers, agent: false }, (res) => {
          const hash = createHash("sha256");
          res.on("data", (piece: Buffer) => hash.update(piece));
          res.once("end", () => resolve({ status: res.statusCode ?? 0, sha256: res.complete ? toHex(hash.digest()) : undefined }));
          res.once("error", () => resolve({ status: res.statusCode ?? 0, sha256: undefined }));
        });
        req.once("error", () => resolve({ status: 0, sha256: undefined }));
        req.end();
      }),
  );
}
