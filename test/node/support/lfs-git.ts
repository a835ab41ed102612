import { execFile, spawnSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { lfsObjectKey } from "../../../shared/lfs/repo.ts";
import type { GatewayHarness } from "./wire.ts";

/**
 * The real, unmodified git-lfs client (Debian's git-lfs 3.3.0) driven as a user drives it: git with its own HOME
 * (a gitconfig with the LFS filters and a credential helper), never a terminal to prompt on, and a timeout so a
 * client waiting for something that never comes fails the case instead of the run.
 */

/** A git command that has not finished by then is stuck (a 100 MiB push and clone take a few seconds here). */
const GIT_TIMEOUT_MS = 60_000;
/** Enough for `git lfs` output on a failed 100-object push. */
const GIT_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Why the real client cannot run here, or undefined when `git lfs` answers. */
export function gitLfsMissing(): string | undefined {
  const probe = spawnSync("git", ["lfs", "version"], { encoding: "utf8" });
  return probe.status === 0 ? undefined : "git-lfs is not installed (.ci/run installs Debian's git-lfs)";
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One person using git with LFS: their HOME, whose gitconfig answers every credential question with their LFS token. */
export interface LfsUser {
  home: string;
  /** Runs `git args...` in `cwd`; resolves with its exit code and output whatever the code. */
  run(cwd: string, args: string[], env?: Record<string, string>, input?: string): Promise<GitResult>;
  /** Runs `git args...` in `cwd` and fails with git's output unless it exits 0; its stdout. */
  git(cwd: string, ...args: string[]): Promise<string>;
}

/**
 * A fresh HOME under `root` for `name`: git identity, LFS filters installed as `git lfs install` installs them, and
 * `token` stored for the LFS URL's origin in a credential store of its own (what the README tells a user to do).
 * `maxRetries` keeps a failing transfer fast (the client's default is eight, with backoff up to ten seconds).
 */
export async function lfsUser(root: string, name: string, token: string, lfsUrl: string, maxRetries = 1): Promise<LfsUser> {
  const home = join(root, `home-${name}`);
  await mkdir(home, { recursive: true });
  const run = (cwd: string, args: string[], env: Record<string, string> = {}, input?: string) => runGit(home, cwd, args, env, input);
  const user: LfsUser = {
    home,
    run,
    async git(cwd, ...args) {
      const result = await run(cwd, args);
      if (result.code !== 0) throw new Error(`git ${args.join(" ")} exited ${result.code}:\n${result.stderr}${result.stdout}`);
      return result.stdout;
    },
  };
  const settings: [string, string][] = [
    ["user.name", name],
    ["user.email", `${name}@verigate.test`],
    ["init.defaultBranch", "main"],
    // A store forgets a credential git-lfs rejects. A helper that answers every `get` with a fixed token would have
    // git-lfs 3.3 resubmit a refused token forever (git-lfs/git-lfs#2833; the loop is fixed upstream in #6231).
    ["credential.helper", `store --file=${join(home, "lfs-credentials")}`],
    ["lfs.transfer.maxretries", String(maxRetries)],
    ["lfs.transfer.maxretrydelay", "1"],
  ];
  for (const [setting, value] of settings) await user.git(home, "config", "--global", setting, value);
  const approved = await run(home, ["credential", "approve"], {}, `url=${lfsUrl}\nusername=lfs\npassword=${token}\n\n`);
  if (approved.code !== 0) throw new Error(`git credential approve exited ${approved.code}: ${approved.stderr}`);
  await user.git(home, "lfs", "install");
  return user;
}

/**
 * git with nothing of this machine's environment but PATH: the user's HOME, no system gitconfig, no terminal to
 * prompt on and no askpass program, so a client that needs a credential it was not given fails at once.
 */
function runGit(home: string, cwd: string, args: string[], env: Record<string, string>, input?: string): Promise<GitResult> {
  const gitEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    ...env,
  };
  return new Promise((resolve) => {
    const child = execFile("git", args, { cwd, env: gitEnv, timeout: GIT_TIMEOUT_MS, maxBuffer: GIT_OUTPUT_BYTES }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr: error?.killed ? `${stderr}\n(killed after ${GIT_TIMEOUT_MS} ms)` : stderr });
    });
    // git exits without reading stdin when it needs none; what it did not read is no failure of the command.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

/** A bare repository standing for the Git host, and a clone of it set up for LFS. */
export interface LfsRepo {
  remote: string;
  work: string;
}

/**
 * A bare remote under `root` and a work repository whose committed `.lfsconfig` points LFS at `lfsUrl` (so every
 * clone finds it) and turns on lock checks before a push, tracking `*.bin` with LFS; the setup is committed and pushed.
 */
export async function newLfsRepo(user: LfsUser, root: string, name: string, lfsUrl: string): Promise<LfsRepo> {
  const remote = join(root, `${name}.git`);
  const work = join(root, name);
  await user.git(root, "init", "--bare", "--quiet", remote);
  await user.git(root, "clone", "--quiet", remote, work);
  await user.git(work, "config", "-f", ".lfsconfig", "lfs.url", lfsUrl);
  // Without it the client only warns when a push changes a file someone else locked.
  await user.git(work, "config", "-f", ".lfsconfig", "lfs.locksverify", "true");
  await user.git(work, "lfs", "track", "*.bin");
  await user.git(work, "add", ".lfsconfig", ".gitattributes");
  await user.git(work, "commit", "--quiet", "-m", "LFS on Verigate");
  await user.git(work, "push", "--quiet", "origin", "main");
  return { remote, work };
}

/** What a Git LFS pointer file holds: a checked-out file that is this did not get its content. */
export function isLfsPointer(content: Uint8Array): boolean {
  return Buffer.from(content.subarray(0, 100)).toString("latin1").startsWith("version https://git-lfs.github.com/spec/v1\n");
}

/** Where a clone keeps an object it downloaded and verified. */
export function localObjectPath(work: string, oid: string): string {
  return join(work, ".git", "lfs", "objects", oid.slice(0, 2), oid.slice(2, 4), oid);
}

interface StoredManifest {
  blob: string;
  size: number;
}

/**
 * Alters one byte of the stored blob of `oid` in `repo` behind the gateway's back (the manifest stays), as a
 * storage operator or an attacker with bucket access could; `at` is the byte's offset. Returns the altered bytes.
 */
export async function alterStoredObject(gateway: GatewayHarness, repo: string, oid: string, at: number): Promise<Uint8Array<ArrayBuffer>> {
  const manifest = (await gateway.kv.get(`obj:${lfsObjectKey(repo, oid)}`, "json")) as StoredManifest | null;
  if (!manifest) throw new Error(`no manifest for ${oid} in ${repo}`);
  const stored = await gateway.bucket.get(manifest.blob);
  if (!stored) throw new Error(`no blob ${manifest.blob}`);
  const altered = new Uint8Array(await stored.arrayBuffer());
  altered[at] = altered[at]! ^ 0xff;
  await gateway.bucket.put(manifest.blob, altered);
  return altered;
}
