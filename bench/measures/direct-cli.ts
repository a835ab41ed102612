import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { MIB } from "../../shared/bytes.ts";
import type { BenchObject } from "../harness/objects.ts";
import { type SessionTarget, uploadInSession } from "../harness/sessions.ts";

const CLI = new URL("../../client/cli/bin.mjs", import.meta.url).pathname;
/** `verigate get --direct`'s default: the run is of the command as a user types it. */
const DIRECT_PARALLEL = 4;
/** The sampler's cadence elsewhere (harness/memory-sampler.ts); VmHWM is the kernel's peak, so a sample only has to come before the exit. */
const RSS_POLL_MS = 20;

export interface DirectCliRun {
  /** The object's bytes over the CLI process's whole life (start, plan, ranges, the whole-file SHA-256, rename), 10^6 bytes a second. */
  mbps: number;
  /** The CLI process's peak RSS (VmHWM), MiB. */
  peakRssMib: number;
}

/**
 * Issue 18's done-when on the AWS build: `object` (multi-gigabyte) committed through an upload session, then fetched
 * by the real `verigate get --direct --parallel 4` process, its file's SHA-256 checked here against the object's.
 * One run: it is there to show the CLI fetches such an object whole, at what speed and in how much memory.
 */
export async function directCliDownload(target: SessionTarget, keyJwk: object, object: BenchObject, dir: string): Promise<DirectCliRun> {
  await uploadInSession(target, object);
  const keyFile = join(dir, "direct-cli-key.jwk");
  const out = join(dir, `direct-cli-${object.label}.bin`);
  await writeFile(keyFile, JSON.stringify(keyJwk), { mode: 0o600 });
  try {
    const started = performance.now();
    const peakKib = await runCli(["get", object.key, "-o", out, "--direct", "--parallel", String(DIRECT_PARALLEL)], {
      VERIGATE_ENDPOINT: target.origin,
      VERIGATE_KEY: keyFile,
    });
    const ms = performance.now() - started;
    const sha256 = await fileSha256(out);
    if (!sha256.equals(object.sha256)) throw new Error(`verigate get --direct of ${object.key} wrote other bytes (sha256 ${sha256.toString("hex")})`);
    return { mbps: object.size / 1e6 / (ms / 1000), peakRssMib: peakKib / 1024 };
  } finally {
    await rm(out, { force: true });
    await rm(keyFile, { force: true });
  }
}

/** Runs the CLI to its exit (an error unless 0), returning its peak RSS in KiB as /proc last showed it. */
async function runCli(args: string[], env: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  let peakKib = 0;
  const poll = setInterval(() => {
    void readFile(`/proc/${child.pid}/status`, "utf8").then(
      (status) => (peakKib = Math.max(peakKib, Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0))),
      // Gone between the exit and this read: the last reading stands.
      () => {},
    );
  }, RSS_POLL_MS);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`verigate ${args.join(" ")} exited ${code}:\n${stderr}`);
  if (peakKib === 0) throw new Error(`verigate ${args.join(" ")} ended before its memory was read`);
  return peakKib;
}

async function fileSha256(path: string): Promise<Buffer> {
  const hash = createHash("sha256");
  for await (const piece of createReadStream(path, { highWaterMark: 4 * MIB })) hash.update(piece as Buffer);
  return hash.digest();
}
