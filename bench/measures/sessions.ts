import { performance } from "node:perf_hooks";
import { GIB } from "../../shared/bytes.ts";
import { type BenchObject, mibPerSecond } from "../harness/objects.ts";
import { type MemorySampler, type ProcessPeak, rssMib } from "../harness/process-memory.ts";
import { completeSession, planParts, rawMultipart, sendSessionParts, type SessionTarget } from "../harness/sessions.ts";
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

export interface LargeSessionMemory {
  idleMib: number;
  /** Peak RSS over idle while the object went up in a session (parts and complete). */
  uploadOverIdleMib: number;
  /** Peak RSS over idle while it came back in one verified download. */
  downloadOverIdleMib: number;
}

/** One session upload and one verified download of a large object in a fresh Worker process: does memory stay flat? */
export async function largeSessionMemory(target: DownloadTarget, sampler: MemorySampler, object: BenchObject): Promise<LargeSessionMemory> {
  const sessions: SessionTarget = { origin: target.origin, signer: target.signer };
  const plan = await planParts(sessions, object);
  const idleMib = rssMib(target.processes.gateway);
  const peakOf = (peaks: ProcessPeak[]) => {
    const [worker] = peaks;
    if (!worker) throw new Error("the memory sampler measured no gateway process");
    return Math.max(worker.sampledPeakKib, worker.hwmKib ?? 0) / 1024;
  };
  const upload = await sampler.measure([target.processes.gateway], async () => {
    const uploadId = await sendSessionParts(sessions, object, plan, object.key);
    await completeSession(sessions, uploadId);
  });
  const download = await downloadOnce(target, sampler, "verified", object);
  return { idleMib, uploadOverIdleMib: peakOf(upload.peaks) - idleMib, downloadOverIdleMib: download.peakMib - idleMib };
}
