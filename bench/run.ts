/**
 * `npm run bench`: the gateway's data path and auth path measured side by side with what they are
 * compared to, in one run, variants interleaved. Prints the table and writes bench/results.json.
 * `npm run bench -- --quick` runs small objects and short rounds to check the harness; it writes nothing.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onInterrupt, stopEverythingOnSignals } from "./harness/cleanup.ts";
import { awsNodeServerSection } from "./suites/aws-node-server.ts";
import { describeMachine, finishMachine, machineLine } from "./report/machine.ts";
import { GIB, MIB } from "../shared/bytes.ts";
import { benchObject } from "./harness/objects.ts";
import { FULL_PLAN, QUICK_PLAN } from "./plan.ts";
import { MemorySampler } from "./harness/process-memory.ts";
import { emptyReport, formatReport } from "./report/report.ts";
import { awsLambdaTargets, awsNodeServerTargets, workersTargets } from "./report/targets.ts";
import { workersSection } from "./suites/workers.ts";

const quick = process.argv.includes("--quick");
const plan = quick ? QUICK_PLAN : FULL_PLAN;
const RESULTS_PATH = new URL("./results.json", import.meta.url).pathname;

function progress(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

stopEverythingOnSignals();
const machine = describeMachine();
const report = emptyReport();
const startedAt = new Date();
progress(`${quick ? "quick run" : "full run"} on ${machineLine(machine)}`);

const dir = await mkdtemp(join(tmpdir(), "verigate-bench-"));
const removeDir = onInterrupt(() => rm(dir, { recursive: true, force: true }));
const sampler = new MemorySampler();
try {
  progress("hashing the benchmark objects in the client (AES-CTR bytes, generated piece by piece)");
  const objects = {
    warmup: benchObject("warmup", 4 * MIB),
    small: benchObject("256mib", plan.small),
    large: benchObject("1gib", plan.large),
  };
  const sessionLarge = benchObject(`session-${plan.sessionLarge / MIB}mib`, plan.sessionLarge);
  // Labelled by size, as its results are named (`download_direct_2gib_mb_s`); 0 bytes in a quick run, which leaves it out.
  const directCliLarge = benchObject(`${plan.directCliLarge / GIB}gib`, plan.directCliLarge);
  await workersSection(report, { dir, ...objects, sessionLarge, plan, sampler, progress });
  report.targets.push(...workersTargets(report.medians));
  const awsNodeServer = await awsNodeServerSection(report, { dir, ...objects, directCliLarge, plan, sampler, progress });
  if (awsNodeServer.ran) report.targets.push(...awsNodeServerTargets(report.medians));
  if (awsNodeServer.lambdaRan) report.targets.push(...awsLambdaTargets(report.medians));
} finally {
  await sampler.close();
  await removeDir();
}

finishMachine(machine);
const header = [
  `Verigate benchmark, ${startedAt.toISOString()}${quick ? " (QUICK: harness check only, figures not comparable)" : ""}`,
  `Machine: ${machineLine(machine)}`,
  `Command: npm run bench${quick ? " -- --quick" : ""}`,
];
console.log(formatReport(report, header));
if (!quick) {
  const results = {
    timestamp: startedAt.toISOString(),
    command: "npm run bench",
    machine,
    medians: report.medians,
    targets: report.targets,
    skipped: report.skipped,
    rows: report.rows,
  };
  await writeFile(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);
  progress(`wrote ${RESULTS_PATH}`);
}
