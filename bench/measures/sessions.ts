import { performance } from "node:perf_hooks";
import { GIB } from "../../shared/bytes.ts";
import { type BenchObject, mibPerSecond } from "../harness/objects.ts";
import { type MemorySampler, peakMib, rssMib } from "../harness/process-memory.ts";
import { completeSession, type PartPlan, planParts, rawMultipart, sendSessionParts, type SessionTarget } from "../harness/sessions.ts";
import { type DownloadTarget, downloadOnce } from "./downloads.ts";

export interface SessionRuns {
  /** The whole session upload (create, parts, every complete call) as throughput of the object's bytes. */
  sessionMibps: number[];
  rawMibps: number[];
  /** Gateway CPU of the complete calls (the verification pass and the commit), per GiB of object. */
  completeCpuMsPerGib: number[];
  completeCalls: number[];
}

/**
 * Session uploads and raw multipart uploads of the same parts, alternating, the same part size and concurrency.
 * The session's time includes its complete calls, where the gateway reads the assembled object back and hashes it
 * (the price of a whole-object SHA-256 no multipart store gives): that is what a user waits for.
 */
export async function sessionRounds(target: DownloadTarget, sampler: MemorySampler, object: BenchObject, rounds: number): Promise<SessionRuns> {
  const sessions: SessionTarget = { origin: target.origin, signer: target.signer };
  const raws: SessionTarget = { origin: target.benchOrigin, signer: target.signer };
  const plan = await planParts(sessions, object);
  const runs: SessionRuns = { sessionMibps: [], rawMibps: [], completeCpuMsPerGib: [], completeCalls: [] };
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const uploadId = await sendSessionParts(sessions, object, plan, `${object.key}-session`);
    const completed = await sampler.measure([target.processes.gateway], () => completeSession(sessions, uploadId));
    runs.sessionMibps.push(mibPerSecond(object.size, performance.now() - started));
    runs.completeCpuMsPerGib.push(((completed.peaks[0]?.cpuMs ?? Number.NaN) * GIB) / object.size);
    runs.completeCalls.push(completed.result);
    const raw = await rawMultipart(raws, object, plan, `${object.key}-raw-multipart`);
    runs.rawMibps.push(mibPerSecond(object.size, raw.partsMs + raw.completeMs));
  }
  return runs;
}

/** Small transfers that load and compile the session and download paths before the idle baseline is taken. */
const WARMUP_ROUNDS = 2;

/**
 * What the memory phase runs, each in a fresh warmed Worker process. The raw variants are there because the local R2
 * simulator runs inside the measured workerd and holds a multipart object's bytes in memory while it is read (a raw
 * pass-through of a 96 MiB multipart object grew RSS by 167 MiB, of a single-put one by 2 MiB): the gateway's own
 * share is the product variant's growth less the raw one's.
 */
export const SESSION_MEMORY_OPERATIONS = ["session-upload", "raw-multipart-upload", "verified-download", "raw-download"] as const;
export type SessionMemoryOperation = (typeof SESSION_MEMORY_OPERATIONS)[number];

export interface MemoryPhaseObjects {
  warmup: BenchObject;
  warmupPlan: PartPlan;
  object: BenchObject;
  plan: PartPlan;
}

/** The warmup and large objects with their part plans, asked once (the parts do not change between processes). */
export async function memoryPhaseObjects(target: SessionTarget, warmup: BenchObject, object: BenchObject): Promise<MemoryPhaseObjects> {
  return { warmup, warmupPlan: await planParts(target, warmup), object, plan: await planParts(target, object) };
}

/** Peak RSS over the idle baseline of a fresh, warmed Worker process during one operation on a large object. */
export async function freshProcessPeakOverIdle(
  target: DownloadTarget,
  sampler: MemorySampler,
  operation: SessionMemoryOperation,
  { warmup, warmupPlan, object, plan }: MemoryPhaseObjects,
): Promise<{ idleMib: number; overIdleMib: number }> {
  const sessions: SessionTarget = { origin: target.origin, signer: target.signer };
  for (let round = 0; round < WARMUP_ROUNDS; round++) {
    await completeSession(sessions, await sendSessionParts(sessions, warmup, warmupPlan, warmup.key));
    await downloadOnce(target, sampler, "verified", warmup);
    await downloadOnce(target, sampler, "raw", warmup);
  }
  const idleMib = rssMib(target.processes.gateway);
  if (operation.endsWith("download")) {
    const run = await downloadOnce(target, sampler, operation === "raw-download" ? "raw" : "verified", object);
    return { idleMib, overIdleMib: run.peakMib - idleMib };
  }
  const measured = await sampler.measure([target.processes.gateway], async () => {
    if (operation === "raw-multipart-upload") await rawMultipart({ ...sessions, origin: target.benchOrigin }, object, plan, `${object.key}-raw-multipart`);
    else await completeSession(sessions, await sendSessionParts(sessions, object, plan, object.key));
  });
  const [worker] = measured.peaks;
  if (!worker) throw new Error("the memory sampler measured no gateway process");
  return { idleMib, overIdleMib: peakMib(worker) - idleMib };
}
