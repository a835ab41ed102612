import { type DownloadTarget, downloadOnce } from "./downloads.ts";
import type { BenchObject } from "../harness/objects.ts";
import { type MemorySampler, rssMib } from "../harness/process-memory.ts";
import { percentile } from "../report/stats.ts";

/** Small requests that load and compile the download path before the idle baseline is taken. */
const WARMUP_DOWNLOADS = 3;
/** The idle baseline is the median of a few readings, so one reading during a stray allocation does not set it. */
const IDLE_SAMPLES = 5;
const IDLE_SAMPLE_INTERVAL_MS = 50;

export interface MemoryPhaseResult {
  idleBaselineMib: number;
  /** Per object label: peak RSS during each verified download minus the idle baseline. */
  overIdleMib: Map<string, number[]>;
  /** Per object label: peak RSS minus the RSS just before that request. */
  perRequestMib: Map<string, number[]>;
}

/**
 * Verified downloads in a freshly started Worker process, before anything else has grown its heap.
 * A download's chunks are garbage the heap keeps room for, and later requests reuse that room, so growth
 * over the RSS just before a request reads near zero once any large request ran. Growth over the idle
 * baseline of a fresh process counts that room every time: the memory a verified download really needs.
 * Objects alternate (A B A B), so a size-dependent cost would show as a higher peak on the larger one.
 */
export async function memoryPhase(
  target: DownloadTarget,
  sampler: MemorySampler,
  objects: BenchObject[],
  rounds: number,
  warmup: BenchObject,
): Promise<MemoryPhaseResult> {
  for (let run = 0; run < WARMUP_DOWNLOADS; run++) await downloadOnce(target, sampler, "verified", warmup);
  const idle: number[] = [];
  for (let sample = 0; sample < IDLE_SAMPLES; sample++) {
    idle.push(rssMib(target.processes.gateway));
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_INTERVAL_MS));
  }
  const idleBaselineMib = percentile(
    idle.sort((a, b) => a - b),
    50,
  );
  const overIdleMib = new Map(objects.map((object) => [object.label, [] as number[]]));
  const perRequestMib = new Map(objects.map((object) => [object.label, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (const object of objects) {
      const run = await downloadOnce(target, sampler, "verified", object);
      overIdleMib.get(object.label)?.push(run.peakMib - idleBaselineMib);
      perRequestMib.get(object.label)?.push(run.growthMib);
    }
  }
  return { idleBaselineMib, overIdleMib, perRequestMib };
}
