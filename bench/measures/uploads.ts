import type { DownloadTarget } from "./downloads.ts";
import { type BenchObject, mibPerSecond, putRaw, putVerified } from "../harness/objects.ts";
import type { MemorySampler } from "../harness/process-memory.ts";

export interface UploadRuns {
  verifiedMibps: number[];
  rawMibps: number[];
  verifiedCpuMs: number[];
  rawCpuMs: number[];
}

/** Verified PUT and raw put of the same streamed body, alternating, each to its own key so neither reads the other's object. */
export async function uploadRounds(target: DownloadTarget, sampler: MemorySampler, object: BenchObject, rounds: number): Promise<UploadRuns> {
  const runs: UploadRuns = { verifiedMibps: [], rawMibps: [], verifiedCpuMs: [], rawCpuMs: [] };
  const key = `${object.key}-upload`;
  for (let round = 0; round < rounds; round++) {
    const verified = await sampler.measure([target.processes.gateway], () => putVerified(target, object, key));
    runs.verifiedMibps.push(mibPerSecond(object.size, verified.result.totalMs));
    runs.verifiedCpuMs.push(verified.peaks[0]?.cpuMs ?? 0);
    const raw = await sampler.measure([target.processes.gateway], () => putRaw(target, object, key));
    runs.rawMibps.push(mibPerSecond(object.size, raw.result.totalMs));
    runs.rawCpuMs.push(raw.peaks[0]?.cpuMs ?? 0);
  }
  return runs;
}
