import { type ChildProcess, spawn } from "node:child_process";
import { appendFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A port the OS just handed out, so parallel runs do not collide. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface DevServer {
  origin: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** How long `wrangler dev` may take to bundle and boot workerd on a loaded 2-core machine. */
const STARTUP_TIMEOUT_MS = 90_000;

/**
 * Given to `--env-file`: wrangler then reads this empty file instead of the `.dev.vars` (or `.env`) beside
 * wrangler.toml, so a developer's local settings (`AUTH_MODE=soft`, their own `ADMIN_KEYS`) never reach a test.
 */
const NO_DEV_VARS = join(tmpdir(), "verigate-no-dev-vars.env");

/**
 * Starts the real `wrangler dev` (workerd, local R2/KV/DO) on loopback and waits until /healthz answers.
 * It is configured by wrangler.toml and `args` alone; `cwd` is the project it runs (the repository by default).
 */
export async function startWranglerDev(args: string[], persistTo: string, options: { cwd?: string } = {}): Promise<DevServer> {
  const port = await freePort();
  const inspectorPort = await freePort();
  // Appending nothing creates the file if needed and never changes it under a concurrent start.
  await appendFile(NO_DEV_VARS, "");
  const listen = ["--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  return startServer("npx", ["wrangler", "dev", ...listen, "--persist-to", persistTo, "--env-file", NO_DEV_VARS, ...args], `http://127.0.0.1:${port}`, options);
}

/**
 * Runs a server command (in its own process group, so `stop` ends it and every child it started) and waits
 * until `origin`/healthz answers, whatever the status.
 */
export async function startServer(
  command: string,
  args: string[],
  origin: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<DevServer> {
  const child: ChildProcess = spawn(command, args, {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let output = "";
  child.stdout?.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid, "SIGTERM");
    await exited;
  };
  const name = [command, ...args.slice(0, 2)].join(" ");
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${output}`);
    try {
      if ((await fetch(`${origin}/healthz`)).status > 0) return { origin, output: () => output, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new Error(`${name} did not answer within ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
}
