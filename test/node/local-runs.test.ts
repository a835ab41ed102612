import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, freePort, startServer, startWranglerDev } from "./support/wrangler-dev.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const BIN = join(REPO, "client/cli/bin.mjs");
const run = promisify(execFile);

/**
 * A fresh clone as a new user has it: every file git tracks or would track (so no `.dev.vars`, `.verigate/` or
 * local state), with the repository's node_modules linked in. Copied from the working tree, uncommitted work included.
 */
async function cloneRepository(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "verigate-clone-"));
  const { stdout } = await run("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  for (const file of stdout.split("\0").filter((name) => name !== "")) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    // A tracked file deleted in the working tree is not part of it.
    await copyFile(join(REPO, file), join(dir, file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }
  await symlink(join(REPO, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** The local-run commands of the README (`npm start`, `npm run start:aws-local`) in a fresh clone, as subprocesses. */
describe("local runs in a fresh clone", () => {
  let clone: string;
  const devKey = () => join(clone, ".verigate/dev-admin.jwk");

  /** `verigate args...` signing with the dev admin key `npm start` created. */
  async function verigate(endpoint: string, args: string[]): Promise<string> {
    const env = { ...process.env, VERIGATE_ENDPOINT: endpoint, VERIGATE_KEY: devKey() };
    return (await run(process.execPath, [BIN, ...args], { cwd: clone, env })).stdout;
  }

  /** Uploads a file, presigns it, and fetches the link: what answered 503 under start:aws-local without PRESIGN_SECRET. */
  async function presignRoundTrip(endpoint: string): Promise<void> {
    const content = randomBytes(10_000);
    await writeFile(join(clone, "shared.bin"), content);
    await verigate(endpoint, ["put", "shared.bin", "local/shared.bin"]);
    const link = JSON.parse(await verigate(endpoint, ["presign", "local/shared.bin", "--json"])) as { url: string };
    const response = await fetch(link.url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(content)).toBe(true);
  }

  /**
   * Runs client/README.md's "first session" as written (against `origin`), then asks git what a `git add .` would
   * take: no key file may be among it (regression: the session wrote me.jwk into the repository root).
   */
  async function firstSession(origin: string): Promise<void> {
    const readme = await readFile(join(clone, "client/README.md"), "utf8");
    const session = /A first session against `npm start`:\n\n```sh\n([^]*?)\n```/.exec(readme)?.[1];
    expect(session).toBeDefined();
    const report = randomBytes(3000);
    await writeFile(join(clone, "report.pdf"), report);
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VERIGATE_")));
    await run("sh", ["-e", "-c", (session ?? "").replaceAll("http://127.0.0.1:8787", origin)], { cwd: clone, env });
    expect((await readFile(join(clone, "copy.pdf"))).equals(report)).toBe(true);
    await run("git", ["init", "-q"], { cwd: clone });
    const { stdout: addable } = await run("git", ["ls-files", "--others", "--exclude-standard"], { cwd: clone });
    expect(addable.split("\n").filter((file) => file.endsWith(".jwk"))).toEqual([]);
    expect((await stat(join(clone, ".verigate/me.jwk"))).mode & 0o777).toBe(0o600);
  }

  /** `vitest run --project workerd args...` in the clone, as npm test runs it; its exit code and uncoloured output. */
  async function workerdTests(args: string[]): Promise<{ code: number | undefined; output: string }> {
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST"))), NO_COLOR: "1" };
    return run(process.execPath, [join(REPO, "node_modules/vitest/vitest.mjs"), "run", "--project", "workerd", ...args], { cwd: clone, env }).then(
      ({ stdout, stderr }) => ({ code: 0, output: `${stdout}${stderr}` }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code, output: `${error.stdout ?? ""}${error.stderr ?? ""}` }),
    );
  }

  beforeAll(async () => {
    clone = await cloneRepository();
  });

  afterAll(async () => {
    await rm(clone, { recursive: true, force: true });
  });

  it("npm start -- --port N serves on N, says so in its banner, creates the dev key and .dev.vars; the README's first session commits no key", async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const inspectorPort = await freePort();
    // Before the fix, wrangler refused this: `--port` given twice "expects a single value".
    const server = await startServer("npm", ["start", "--", "--port", String(port), "--inspector-port", String(inspectorPort)], origin, { cwd: clone });
    try {
      expect(server.output()).toContain(`Verigate is starting on ${origin}. Try, in another terminal:\n  curl -s ${origin}/healthz\n`);
      expect(server.output()).toContain("Created the dev admin key dev-admin in .verigate/dev-admin.jwk");
      expect((await stat(devKey())).mode & 0o777).toBe(0o600);
      expect(await readFile(join(clone, ".dev.vars"), "utf8")).toMatch(/^ADMIN_KEYS="dev-admin=[\w-]{43}"\nPRESIGN_SECRET="[\w-]{43}"$/m);

      const health = (await (await fetch(`${origin}/healthz`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ status: "ok", runtime: "workers", auth_mode: "enforce" });
      expect(health).not.toHaveProperty("warnings");
      expect(JSON.parse(await verigate(origin, ["whoami", "--json"]))).toMatchObject({ keyid: "dev-admin", admin: true });
      await presignRoundTrip(origin);
      await firstSession(origin);
    } finally {
      await server.stop();
    }
  }, 180_000);

  it("npm run start:aws-local reads the same dev key and .dev.vars, so presign works there too", async () => {
    // A setting only .dev.vars holds: /healthz then shows that this server read the file.
    await appendFile(join(clone, ".dev.vars"), "AUTH_MODE=soft\n");
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const server = await startServer("npm", ["run", "start:aws-local"], origin, { cwd: clone, env: { PORT: String(port) } });
    try {
      expect(server.output()).not.toContain("Created the dev admin key");
      expect(server.output()).toContain(`is listening on ${origin}.`);
      const health = (await (await fetch(`${origin}/healthz`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ status: "ok", runtime: "node", auth_mode: "soft" });
      expect(health).not.toHaveProperty("warnings");
      expect(JSON.parse(await verigate(origin, ["whoami", "--json"]))).toMatchObject({ keyid: "dev-admin", admin: true });
      await presignRoundTrip(origin);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it("npm test's harnesses ignore a developer's .dev.vars (AUTH_MODE=soft there failed the suite)", async () => {
    expect(await readFile(join(clone, ".dev.vars"), "utf8")).toContain("AUTH_MODE=soft");
    const server: DevServer = await startWranglerDev([], join(clone, "harness-state"), { cwd: clone });
    try {
      expect(await (await fetch(`${server.origin}/healthz`)).json()).toMatchObject({ auth_mode: "enforce" });
      expect((await fetch(`${server.origin}/v1/whoami`)).status).toBe(401);
    } finally {
      await server.stop();
    }
    // The workerd project: its Worker-entry /healthz test expects wrangler.toml's `AUTH_MODE = "enforce"`.
    const vitest = await workerdTests(["test/workerd/config.test.ts"]);
    expect(vitest.code, vitest.output).toBe(0);
  }, 150_000);

  it("a passing workerd run prints no runtime stack traces (regression: aborted uploads over local R2 printed 14 uncaught exceptions)", async () => {
    const vitest = await workerdTests(["test/workerd/objects-core.test.ts", "-t", "failed uploads"]);
    expect(vitest.code, vitest.output).toBe(0);
    expect(vitest.output).toMatch(/Tests +\d+ passed/);
    expect(vitest.output).not.toContain("uncaught exception");
    expect(vitest.output).not.toMatch(/^ +at /m);
  }, 120_000);
});
