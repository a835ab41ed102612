import { readdirSync, readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

export type SamplerRequest = { type: "start"; pids: number[] } | { type: "stop" };
export type SamplerReply = { type: "started" } | { type: "stopped"; peaks: ProcessPeak[] } | { type: "failed"; message: string };

export interface ProcessPeak {
  pid: number;
  /** VmRSS just before the measured request. */
  baselineKib: number;
  /** Highest VmRSS seen by sampling every ~20 ms. */
  sampledPeakKib: number;
  /** The kernel's peak RSS since the reset at start; null where the reset is not allowed. */
  hwmKib: number | null;
  samples: number;
  /** CPU time of all its threads during the operation. */
  cpuMs: number;
  /** CPU time of its busiest thread: near the wall time means that thread was the bottleneck. */
  busiestThreadCpuMs: number;
}

/** The peak RSS of one process over one measured request, MiB: the higher of both peak readings. */
export function peakMib(peak: ProcessPeak): number {
  return Math.max(peak.sampledPeakKib, peak.hwmKib ?? 0) / 1024;
}

/** Memory growth of one process over one measured request: its peak minus the baseline. */
export function growthMib(peak: ProcessPeak): number {
  return peakMib(peak) - peak.baselineKib / 1024;
}

export interface ServingProcesses {
  /** The process running the gateway's code (on Workers, the workerd wrangler attaches its inspector to). */
  gateway: number;
  /** wrangler's proxy workerd in front of it, when there is one; it forwards every request. */
  proxy: number | undefined;
}

function readProc(pid: string, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return "";
  }
}

/** The workerd processes `wrangler dev --port <port>` started, found by walking /proc from the wrangler process. */
export function findWorkerd(port: number): ServingProcesses {
  const pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  const parentOf = new Map(
    pids.map((pid) => [
      pid,
      readProc(pid, "stat")
        .replace(/^.*\) /s, "")
        .split(" ")[1] ?? "",
    ]),
  );
  const roots = pids.filter((pid) => {
    const args = readProc(pid, "cmdline").split("\0");
    return args.includes("dev") && args[args.indexOf("--port") + 1] === String(port);
  });
  const descends = (pid: string): boolean => {
    for (let at: string | undefined = pid; at && at !== "0" && at !== "1"; at = parentOf.get(at)) if (roots.includes(at)) return true;
    return false;
  };
  const workerd = pids.filter((pid) => readProc(pid, "comm").trim() === "workerd" && descends(pid));
  const worker = workerd.find((pid) => readProc(pid, "cmdline").includes("--inspector-addr"));
  if (!worker) throw new Error(`no workerd with an inspector under wrangler dev on port ${port} (found ${workerd.join(", ") || "none"})`);
  const proxy = workerd.find((pid) => pid !== worker);
  return { gateway: Number(worker), proxy: proxy === undefined ? undefined : Number(proxy) };
}

/** A sampler thread for the RSS of a set of processes during one measured operation at a time. */
export class MemorySampler {
  readonly #thread = new Worker(new URL("./memory-sampler.ts", import.meta.url));
  /** Set when the thread died; every later exchange fails with it instead of waiting forever. */
  #died: Error | undefined;

  constructor() {
    this.#thread.on("error", (error: Error) => (this.#died = error));
  }

  /** Samples `pids` while `operation` runs; rejects when a process went away meanwhile (a restarted workerd). */
  async measure<T>(pids: number[], operation: () => Promise<T>): Promise<{ result: T; peaks: ProcessPeak[] }> {
    const started = await this.#exchange({ type: "start", pids });
    if (started.type === "failed") throw new Error(`memory sampler: ${started.message}`);
    let result: T;
    try {
      result = await operation();
    } catch (error) {
      await this.#exchange({ type: "stop" });
      throw error;
    }
    const stopped = await this.#exchange({ type: "stop" });
    if (stopped.type === "failed") throw new Error(`memory sampler: ${stopped.message}`);
    if (stopped.type !== "stopped") throw new Error("memory sampler answered out of turn");
    return { result, peaks: stopped.peaks };
  }

  close(): Promise<number> {
    return this.#thread.terminate();
  }

  #exchange(request: SamplerRequest): Promise<SamplerReply> {
    return new Promise((resolve, reject) => {
      if (this.#died) {
        reject(this.#died);
        return;
      }
      const onError = (error: Error) => reject(error);
      this.#thread.once("error", onError);
      this.#thread.once("message", (reply: SamplerReply) => {
        this.#thread.off("error", onError);
        resolve(reply);
      });
      this.#thread.postMessage(request);
    });
  }
}

/** The current RSS of `pid`, MiB. */
export function rssMib(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}
