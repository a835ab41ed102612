/**
 * Runs in a worker thread, so sampling keeps its ~20 ms cadence while the main thread is busy receiving
 * a download. Reads /proc/<pid>/status; on `start` it also resets the kernel's peak-RSS mark (VmHWM) through
 * clear_refs, so a peak between two samples is caught too where the kernel allows the reset. CPU time comes
 * from each thread's schedstat (nanoseconds on CPU), to tell a CPU-bound process from a waiting one.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import type { ProcessPeak, SamplerReply, SamplerRequest } from "./process-memory.ts";

/** The cadence the benchmark's design asks for; the kernel's VmHWM, where resettable, catches a peak between samples. */
const SAMPLE_INTERVAL_MS = 20;
/** clear_refs value 5 resets VmHWM to the current RSS (Linux 4.0+, proc(5)). */
const RESET_PEAK_RSS = "5";
/** VmHWM and VmRSS are read one after the other; a few pages may move in between. */
const RESET_SLACK_KIB = 64;

function statusKib(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]);
}

function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, RESET_PEAK_RSS);
    return statusKib(pid, "VmHWM") <= statusKib(pid, "VmRSS") + RESET_SLACK_KIB;
  } catch {
    return false;
  }
}

/** Nanoseconds on CPU so far, per thread id. */
function threadCpuNs(pid: number): Map<string, number> {
  const times = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      times.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]));
    } catch {
      // The thread ended between listing and reading; its time is lost, as it is for any short-lived thread.
    }
  }
  return times;
}

interface Running {
  peak: ProcessPeak;
  cpuAtStart: Map<string, number>;
}

let timer: NodeJS.Timeout | undefined;
let running: Running[] = [];
/** The first failure while sampling (a process that went away): reported at stop, never thrown in a timer. */
let failure: string | undefined;

function sample(): void {
  try {
    for (const { peak } of running) {
      peak.sampledPeakKib = Math.max(peak.sampledPeakKib, statusKib(peak.pid, "VmRSS"));
      peak.samples++;
    }
  } catch (error) {
    failure ??= `sampling stopped: ${String(error)}`;
    clearInterval(timer);
  }
}

function finish({ peak, cpuAtStart }: Running): ProcessPeak {
  if (peak.hwmKib !== null) peak.hwmKib = statusKib(peak.pid, "VmHWM");
  const deltas = [...threadCpuNs(peak.pid)].map(([tid, ns]) => (ns - (cpuAtStart.get(tid) ?? 0)) / 1e6);
  peak.cpuMs = deltas.reduce((sum, ms) => sum + ms, 0);
  peak.busiestThreadCpuMs = Math.max(0, ...deltas);
  return peak;
}

function start(pids: number[]): void {
  failure = undefined;
  running = pids.map((pid) => {
    const hwmReset = resetPeak(pid);
    const baselineKib = statusKib(pid, "VmRSS");
    return {
      peak: { pid, baselineKib, sampledPeakKib: baselineKib, hwmKib: hwmReset ? baselineKib : null, samples: 0, cpuMs: 0, busiestThreadCpuMs: 0 },
      cpuAtStart: threadCpuNs(pid),
    };
  });
  timer = setInterval(sample, SAMPLE_INTERVAL_MS);
}

function reply(message: SamplerRequest): SamplerReply {
  try {
    if (message.type === "start") {
      start(message.pids);
      return { type: "started" };
    }
    clearInterval(timer);
    sample();
    if (failure !== undefined) return { type: "failed", message: failure };
    return { type: "stopped", peaks: running.map(finish) };
  } catch (error) {
    clearInterval(timer);
    return { type: "failed", message: String(error) };
  }
}

parentPort?.on("message", (message: SamplerRequest) => parentPort?.postMessage(reply(message)));
