import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
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
