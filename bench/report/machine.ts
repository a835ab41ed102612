import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, totalmem } from "node:os";
import { GIB } from "../../shared/bytes.ts";

export interface Machine {
  nproc: number;
  cpu_model: string;
  memory_gib: number;
  node: string;
  wrangler: string;
  workerd: string;
  /** 1-minute load averages at the start and the end: other work on the machine shows up as noise in the figures. */
  load_average_1m: number;
  load_average_1m_end?: number;
}

const require = createRequire(import.meta.url);

function packageVersion(name: string, from?: string): string {
  try {
    const path = require.resolve(`${name}/package.json`, from ? { paths: [from] } : undefined);
    return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export function describeMachine(): Machine {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
  const miniflare = require.resolve("miniflare");
  return {
    nproc: availableParallelism(),
    cpu_model: model.trim(),
    memory_gib: Math.round((totalmem() / GIB) * 10) / 10,
    node: process.version,
    wrangler: packageVersion("wrangler"),
    workerd: packageVersion("workerd", miniflare),
    load_average_1m: loadavg()[0] ?? 0,
  };
}

/** Records the load average once the run is over. */
export function finishMachine(machine: Machine): void {
  machine.load_average_1m_end = loadavg()[0] ?? 0;
}

export function machineLine(machine: Machine): string {
  const end = machine.load_average_1m_end === undefined ? "" : `, ${machine.load_average_1m_end.toFixed(2)} at end`;
  return `${machine.nproc} x ${machine.cpu_model}, ${machine.memory_gib} GiB RAM, Node ${machine.node}, wrangler ${machine.wrangler}, workerd ${machine.workerd}, load average ${machine.load_average_1m.toFixed(2)} at start${end}`;
}
