import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { type Signer, signedHeaders } from "../harness/client.ts";
import { type LoadResult, closedLoop } from "./load.ts";

export const AUTH_VARIANTS = ["signed", "unsigned", "claim"] as const;
export type AuthVariant = (typeof AUTH_VARIANTS)[number];

export const AUTH_LABELS: Record<AuthVariant, string> = {
  signed: "signed GET /v1/whoami (verify + replay claim)",
  unsigned: "unsigned GET /healthz",
  claim: "replay-store claim alone",
};

export interface AuthTarget {
  origin: string;
  signer: Signer;
  /** The replay-claim-alone route (a `/bench` route); undefined where the runtime has none. */
  claimUrl?: string | undefined;
  /** Processes whose CPU per request is recorded: the gateway's, and the replay store's where it is local (dynalite). */
  cpu?: { gateway: number; store?: number | undefined };
}

/**
 * CPU per request of each process in one run, in ms: where a signed request's cost goes on this machine, where the
 * gateway, the store and this benchmark's client (its HTTP side: signed requests are signed before the run) share the cores.
 */
export interface AuthCpu {
  gateway: number;
  store: number | undefined;
  client: number;
}

export type AuthResult = LoadResult & { cpu?: AuthCpu };

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

/** User plus system CPU of every thread `pid` has run, in ms (/proc/<pid>/stat fields 14 and 15). */
function processCpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

async function withCpu(target: AuthTarget, run: () => Promise<LoadResult>): Promise<AuthResult> {
  const { cpu } = target;
  if (!cpu) return run();
  const gateway = processCpuMs(cpu.gateway);
  const store = cpu.store === undefined ? undefined : processCpuMs(cpu.store);
  const client = process.cpuUsage();
  const result = await run();
  const clientUsed = process.cpuUsage(client);
  const perRequest = (ms: number) => ms / Math.max(1, result.requests);
  return {
    ...result,
    cpu: {
      gateway: perRequest(processCpuMs(cpu.gateway) - gateway),
      store: cpu.store === undefined || store === undefined ? undefined : perRequest(processCpuMs(cpu.store) - store),
      client: perRequest((clientUsed.user + clientUsed.system) / 1000),
    },
  };
}

/** Client-side cost of signing one request (Ed25519 through WebCrypto), paid before each signed run (see `presigned`). */
export async function signingCostUs(target: AuthTarget, count: number): Promise<number> {
  const url = `${target.origin}/v1/whoami`;
  const started = performance.now();
  for (let index = 0; index < count; index++) await signedHeaders(target.signer, "GET", url);
  return ((performance.now() - started) * 1000) / count;
}

/**
 * Signed requests are signed before the run, not inside it: the client shares this machine's cores with the gateway
 * (and dynalite), and signing inline (Ed25519 through WebCrypto, `signing_cost_us` each) took CPU the gateway would
 * otherwise have had, a cost the unsigned variant never pays and a real client pays on its own machine. The pool is
 * sized from the previous run of the same target and concurrency, half again as many; should it run dry, the loop
 * signs inline. Each signature is fresh for the gateway's window (minutes), far longer than a run.
 */
const lastSignedRate = new Map<string, number>();
const MIN_PRESIGNED = 4_000;

async function presigned(target: AuthTarget, url: string, concurrency: number, durationMs: number): Promise<Record<string, string>[]> {
  const expected = (lastSignedRate.get(`${target.origin}/c${concurrency}`) ?? 0) * (durationMs / 1000);
  const count = Math.max(MIN_PRESIGNED, Math.ceil(expected * 1.5));
  const pool: Record<string, string>[] = [];
  for (let index = 0; index < count; index++) pool.push(await signedHeaders(target.signer, "GET", url));
  return pool;
}

/** The run of one variant, with whatever it needs made beforehand (outside the CPU and time measured). */
async function prepareLoad(target: AuthTarget, variant: AuthVariant, concurrency: number, durationMs: number): Promise<() => Promise<LoadResult>> {
  switch (variant) {
    case "signed": {
      const url = `${target.origin}/v1/whoami`;
      const pool = await presigned(target, url, concurrency, durationMs);
      return async () => {
        const result = await closedLoop({
          url,
          concurrency,
          durationMs,
          headers: () => pool.pop() ?? signedHeaders(target.signer, "GET", url),
          expectStatus: 200,
        });
        lastSignedRate.set(`${target.origin}/c${concurrency}`, result.requestsPerSecond);
        return result;
      };
    }
    case "unsigned":
      return () => closedLoop({ url: `${target.origin}/healthz`, concurrency, durationMs, headers: () => ({}), expectStatus: 200 });
    case "claim":
      return () => closedLoop({ url: target.claimUrl ?? "", method: "POST", concurrency, durationMs, headers: () => ({}), expectStatus: 200 });
  }
}

export type AuthRuns = Map<string, AuthResult[]>;

export function authKey(variant: AuthVariant, concurrency: number): string {
  return `${variant}/c${concurrency}`;
}

/** Each (variant, concurrency) once per round, interleaved, `durationMs` each. */
export async function authRounds(target: AuthTarget, concurrencies: readonly number[], rounds: number, durationMs: number): Promise<AuthRuns> {
  const variants = AUTH_VARIANTS.filter((variant) => variant !== "claim" || target.claimUrl !== undefined);
  const runs: AuthRuns = new Map();
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of concurrencies) {
      for (const variant of variants) {
        const result = await withCpu(target, await prepareLoad(target, variant, concurrency, durationMs));
        const key = authKey(variant, concurrency);
        runs.set(key, [...(runs.get(key) ?? []), result]);
      }
    }
  }
  return runs;
}
