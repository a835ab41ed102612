import { spawn } from "node:child_process";
import { onInterrupt } from "./cleanup.ts";

/** How long a child may take to start its servers on a loaded 2-core machine. */
const READY_TIMEOUT_MS = 60_000;
/** A server closing waits for open connections; past this the child is killed rather than awaited. */
const STOP_TIMEOUT_MS = 10_000;

export interface ChildServer<T> {
  pid: number;
  /** What the child printed as `{"ready": ...}` once it was serving. */
  ready: T;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Runs `script` with this Node in its own process group (so the servers it starts stop with it) and waits
 * for the JSON line `{"ready": ...}` on its stdout. Other output is kept for error messages only.
 */
export async function startChild<T>(script: string, env: Record<string, string>): Promise<ChildServer<T>> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${script} did not start`);
  let output = "";
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = onInterrupt(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-pid, "SIGTERM");
    const timer = setTimeout(() => process.kill(-pid, "SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  });
  const ready = new Promise<T>((resolve, reject) => {
    let pending = "";
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString();
      pending += data.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith('{"ready"')) continue;
        resolve((JSON.parse(line) as { ready: T }).ready);
      }
    });
    child.stderr.on("data", (data: Buffer) => (output += data.toString()));
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before it was ready:\n${output}`)));
    setTimeout(() => reject(new Error(`${script} not ready within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS).unref();
  });
  try {
    return { pid, ready: await ready, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
