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
}

/** Client-side cost of signing one request (Ed25519 through WebCrypto), which the load loop pays before each send. */
export async function signingCostUs(target: AuthTarget, count: number): Promise<number> {
  const url = `${target.origin}/v1/whoami`;
  const started = performance.now();
  for (let index = 0; index < count; index++) await signedHeaders(target.signer, "GET", url);
  return ((performance.now() - started) * 1000) / count;
}

function loadFor(target: AuthTarget, variant: AuthVariant, concurrency: number, durationMs: number): Promise<LoadResult> {
  switch (variant) {
    case "signed": {
      const url = `${target.origin}/v1/whoami`;
      return closedLoop({ url, concurrency, durationMs, headers: () => signedHeaders(target.signer, "GET", url), expectStatus: 200 });
    }
    case "unsigned":
      return closedLoop({ url: `${target.origin}/healthz`, concurrency, durationMs, headers: () => ({}), expectStatus: 200 });
    case "claim":
      return closedLoop({ url: target.claimUrl ?? "", method: "POST", concurrency, durationMs, headers: () => ({}), expectStatus: 200 });
  }
}

export type AuthRuns = Map<string, LoadResult[]>;

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
        const result = await loadFor(target, variant, concurrency, durationMs);
        const key = authKey(variant, concurrency);
        runs.set(key, [...(runs.get(key) ?? []), result]);
      }
    }
  }
  return runs;
}
