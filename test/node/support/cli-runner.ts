import { type ChildProcess, execFile, spawn } from "node:child_process";
import { constants } from "node:os";
import { MIB } from "../../../shared/bytes.ts";

const BIN = new URL("../../../client/cli/bin.mjs", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a CLI run gets: this process's, minus a clock offset a developer may have set, plus `env`. */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { VERIGATE_CLOCK_OFFSET: _inherited, ...base } = process.env;
  return { ...base, ...env };
}

/** Runs `verigate args...` as `npx verigate` does (a subprocess of this Node); resolves with its exit code and output. */
export function runCli(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cliEnv(options.env), maxBuffer: 4 * MIB }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr });
    });
  });
}

/** Starts `verigate args...` to be signalled part way; `result` settles when it exits (a signal's death is 128 + its number). */
export function spawnCli(args: string[], options: { cwd: string; env: Record<string, string> }): { child: ChildProcess; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cliEnv(options.env) });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code: code ?? 128 + (signal === null ? 0 : constants.signals[signal]), stdout, stderr }));
  });
  return { child, result };
}
