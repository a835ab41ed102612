/**
 * `npm run mutate`: mutation testing of the security core with the named mutants of mutate/mutants.ts. Each
 * mutant is applied alone to a scratch copy of the working tree (never to the tree itself, so an interrupted run
 * leaves nothing behind) and only its named test files are run; a mutant is killed when one of them fails.
 * Prints killed/total per folder and every survivor, writes mutate/results.json, and exits non-zero when a
 * mutant survives, a snippet is no longer found in its file, or the named tests fail without any mutant.
 * `npm run mutate -- <id> [<id>...]` runs only those mutants.
 */
import { execFile, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { MUTANTS, type Mutant } from "./mutants.ts";
import { MIB } from "../shared/bytes.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const RESULTS_PATH = join(REPO_ROOT, "mutate/results.json");
/** vitest's output per mutant, kept after the run (git-ignored) for reading why a mutant survived or errored. */
const LOGS_DIR = join(REPO_ROOT, "mutate/logs");
/** Generous per-test limits: the run shares the machine, and a timeout must not pass for a kill. */
const VITEST_LIMITS = ["--testTimeout=60000", "--hookTimeout=180000"];
/** A mutant that hangs its tests past this is counted as killed (as a timeout), like Stryker counts one. */
const MUTANT_DEADLINE_MS = 10 * 60 * 1000;

type Outcome = "killed" | "survived" | "timeout" | "error";

interface MutantResult {
  id: string;
  invariant: string;
  file: string;
  tests: string[];
  outcome: Outcome;
  /** The failed tests (or test files that failed to load or set up) that killed it. */
  failures: string[];
  seconds: number;
}

interface VitestRun {
  exitCode: number | null;
  timedOut: boolean;
  /** Failed tests, and test files that failed as a whole (a hook or an import), by name. */
  failures: string[];
  /** Tests that passed. */
  passed: number;
}

interface VitestJsonReport {
  testResults: { name: string; status: string; message?: string; assertionResults: { status: string; fullName: string }[] }[];
}

function progress(message: string): void {
  console.error(`[mutate ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** The top two path segments: shared/signature, functions/middleware, functions/routes... */
function folderOf(file: string): string {
  return file.split("/").slice(0, 2).join("/");
}

/** Mutants whose snippet is not exactly once in its file: the source moved on, and the list must follow it. */
async function drifted(mutants: readonly Mutant[]): Promise<string[]> {
  const problems: string[] = [];
  for (const mutant of mutants) {
    const source = await readFile(join(REPO_ROOT, mutant.file), "utf8");
    const count = source.split(mutant.original).length - 1;
    if (count !== 1) problems.push(`${mutant.id}: ${count} occurrences in ${mutant.file} of ${JSON.stringify(mutant.original)}`);
  }
  return problems;
}

/** Tracked and untracked-but-not-ignored files: the working tree as the developer has it, tests included. */
async function workingTreeFiles(): Promise<string[]> {
  const { stdout } = await promisify(execFile)("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * MIB,
  });
  return stdout.split("\0").filter((file) => file !== "");
}

/** A copy of the working tree with its own node_modules (copied, so nothing a run writes there reaches the tree). */
async function scratchCopy(): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), "verigate-mutate-"));
  for (const file of await workingTreeFiles()) {
    await mkdir(dirname(join(scratch, file)), { recursive: true });
    await cp(join(REPO_ROOT, file), join(scratch, file)).catch((error: NodeJS.ErrnoException) => {
      // A file deleted in the working tree but not yet in the index.
      if (error.code !== "ENOENT") throw error;
    });
  }
  await cp(join(REPO_ROOT, "node_modules"), join(scratch, "node_modules"), { recursive: true, verbatimSymlinks: true });
  return scratch;
}

/** Runs `tests` with the scratch copy's vitest; the JSON report says which tests failed. */
function runVitest(scratch: string, tests: readonly string[], logPath: string): Promise<VitestRun> {
  const reportPath = `${logPath}.json`;
  return new Promise((resolve, reject) => {
    const child = spawn(join(scratch, "node_modules/.bin/vitest"), ["run", ...tests, ...VITEST_LIMITS, "--reporter=json", `--outputFile=${reportPath}`], {
      cwd: scratch,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => void (stderr += data.toString()));
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, MUTANT_DEADLINE_MS);
    child.on("error", reject);
    child.on("close", async (exitCode) => {
      clearTimeout(deadline);
      await writeFile(logPath, stderr);
      const report = await readFile(reportPath, "utf8").then(
        (text) => JSON.parse(text) as VitestJsonReport,
        (): VitestJsonReport => ({ testResults: [] }),
      );
      const tests = report.testResults.flatMap((file) => file.assertionResults);
      const failedFiles = report.testResults.filter((file) => file.status === "failed" && file.assertionResults.every((test) => test.status !== "failed"));
      resolve({
        exitCode,
        timedOut,
        failures: [
          ...tests.filter((test) => test.status === "failed").map((test) => test.fullName),
          ...failedFiles.map((file) => `${file.name.slice(scratch.length + 1)}: ${file.message ?? "failed"}`),
        ],
        passed: tests.filter((test) => test.status === "passed").length,
      });
    });
  });
}

/** A baseline passed, so a failure under a mutant is the mutant's doing; a run with no verdict at all is an error. */
function outcomeOf(run: VitestRun): Outcome {
  if (run.timedOut) return "timeout";
  if (run.failures.length > 0) return "killed";
  return run.exitCode === 0 && run.passed > 0 ? "survived" : "error";
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const unknown = only.filter((id) => !MUTANTS.some((mutant) => mutant.id === id));
  if (unknown.length > 0) throw new Error(`unknown mutant ids: ${unknown.join(", ")}`);
  const mutants = only.length > 0 ? MUTANTS.filter((mutant) => only.includes(mutant.id)) : MUTANTS;

  const problems = await drifted(mutants);
  if (problems.length > 0) {
    console.error(`mutate: ${problems.length} mutant(s) no longer match their source; update mutate/mutants.ts:\n  ${problems.join("\n  ")}`);
    return 2;
  }

  progress("copying the working tree to a scratch directory");
  const scratch = await scratchCopy();
  const removeScratch = () => rm(scratch, { recursive: true, force: true });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void removeScratch().then(() => process.exit(130)));
  await rm(LOGS_DIR, { recursive: true, force: true });
  await mkdir(LOGS_DIR, { recursive: true });
  try {
    const allTests = [...new Set(mutants.flatMap((mutant) => mutant.tests))].sort();
    progress(`baseline: ${allTests.length} test files without any mutant`);
    const baseline = await runVitest(scratch, allTests, join(LOGS_DIR, "baseline.log"));
    if (outcomeOf(baseline) !== "survived") {
      console.error(
        `mutate: the named tests fail without any mutant, so no kill would mean anything:\n  ${baseline.failures.join("\n  ") || `(no verdict; see ${LOGS_DIR}/baseline.log)`}`,
      );
      return 2;
    }

    const results: MutantResult[] = [];
    for (const [index, mutant] of mutants.entries()) {
      const path = join(scratch, mutant.file);
      const original = await readFile(path, "utf8");
      await writeFile(
        path,
        original.replace(mutant.original, () => mutant.replacement),
      );
      const started = Date.now();
      try {
        const run = await runVitest(scratch, mutant.tests, join(LOGS_DIR, `${mutant.id}.log`));
        const result: MutantResult = {
          id: mutant.id,
          invariant: mutant.invariant,
          file: mutant.file,
          tests: mutant.tests,
          outcome: outcomeOf(run),
          failures: run.failures,
          seconds: Math.round((Date.now() - started) / 100) / 10,
        };
        results.push(result);
        progress(`${index + 1}/${mutants.length} ${result.outcome.padEnd(8)} ${mutant.id} (${result.seconds} s)`);
      } finally {
        await writeFile(path, original);
      }
    }

    const report = summarise(results);
    console.log(report.text);
    if (only.length === 0) await writeFile(RESULTS_PATH, `${JSON.stringify({ date: new Date().toISOString(), ...report.json }, null, 2)}\n`);
    return report.failed ? 1 : 0;
  } finally {
    await removeScratch();
  }
}

function summarise(results: MutantResult[]) {
  const killed = (result: MutantResult) => result.outcome === "killed" || result.outcome === "timeout";
  const folders = new Map<string, { killed: number; total: number }>();
  for (const result of results) {
    const folder = folders.get(folderOf(result.file)) ?? { killed: 0, total: 0 };
    folder.total++;
    if (killed(result)) folder.killed++;
    folders.set(folderOf(result.file), folder);
  }
  const survivors = results.filter((result) => result.outcome === "survived");
  const errors = results.filter((result) => result.outcome === "error");
  const killedCount = results.filter(killed).length;
  const lines = [
    "",
    "folder                     killed/total",
    ...[...folders].sort(([a], [b]) => a.localeCompare(b)).map(([folder, { killed, total }]) => `${folder.padEnd(27)}${killed}/${total}`),
    `${"all".padEnd(27)}${killedCount}/${results.length} (${((100 * killedCount) / results.length).toFixed(1)}%)`,
    "",
    survivors.length === 0 ? "no survivors" : `survivors:\n${survivors.map((result) => `  ${result.id} (${result.file}): ${result.invariant}`).join("\n")}`,
    ...(errors.length === 0 ? [] : [`errors (no verdict; see mutate/logs/<id>.log):\n${errors.map((result) => `  ${result.id} (${result.file})`).join("\n")}`]),
  ];
  return {
    text: lines.join("\n"),
    failed: survivors.length > 0 || errors.length > 0,
    json: {
      killed: killedCount,
      total: results.length,
      folders: Object.fromEntries(folders),
      survivors: survivors.map((result) => result.id),
      mutants: results,
    },
  };
}

process.exitCode = await main();
