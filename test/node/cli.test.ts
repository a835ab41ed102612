import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIB } from "../../shared/bytes.ts";
import { sha256Hex } from "../../shared/crypto/encoding.ts";
import { ed25519Thumbprint } from "../../shared/keys/jwk-thumbprint.ts";
import { VERSION } from "../../shared/version.ts";
import { importJwk } from "../../client/sdk/keys.ts";
import { VerigateClient } from "../../client/sdk/client.ts";
import { EXIT_API_ERROR, EXIT_CODE_MEANINGS, EXIT_INTEGRITY, EXIT_NETWORK_IO, EXIT_OK, EXIT_USAGE } from "../../client/cli/exit-codes.ts";
import { type DevServer, freePort, startWranglerDev } from "./support/wrangler-dev.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const BIN = join(REPO, "client/cli/bin.mjs");
const WRANGLER = join(REPO, "node_modules/.bin/wrangler");
/** The gateway's MAX_OBJECT_BYTES and MAX_UPLOAD_SESSION_BYTES here: above every other upload of this suite, small enough to exceed cheaply. */
const MAX_OBJECT_BYTES = 8 * MIB;
const run = promisify(execFile);
/** `script` (util-linux) runs a command on a pseudo-terminal, where the CLI shows progress bars. */
const HAS_SCRIPT = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI (`verigate`, as `npx verigate` runs it) against the real gateway under `wrangler dev`, as a subprocess. */
describe("the verigate CLI", () => {
  let server: DevServer;
  let dir: string;
  let state: string;
  const adminKey = () => join(dir, "admin.jwk");
  const userKey = () => join(dir, "user.jwk");

  /** Runs `verigate args...` with the endpoint set and the signing key `key`; resolves with the exit code. */
  function verigate(args: string[], options: { key?: string; env?: Record<string, string> } = {}): Promise<Result> {
    const { VERIGATE_CLOCK_OFFSET: _inherited, ...base } = process.env;
    const env = { ...base, VERIGATE_ENDPOINT: server.origin, VERIGATE_KEY: options.key ?? userKey(), ...options.env };
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: dir, env, maxBuffer: 4 * MIB }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr });
      });
    });
  }

  const json = <T = Record<string, unknown>>(result: Result): T => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as T;
  };

  async function putRandom(key: string, bytes: number): Promise<Buffer> {
    const content = randomBytes(bytes);
    const file = join(dir, `upload-${randomBytes(4).toString("hex")}`);
    await writeFile(file, content);
    json(await verigate(["put", file, key, "--json"]));
    return content;
  }

  /** Overwrites the blob behind `key`'s manifest in the local R2 with `alter(original)`, as a hostile storage would. */
  async function tamper(key: string, original: Buffer, offset: number): Promise<void> {
    const { stdout } = await run(WRANGLER, ["kv", "key", "get", "--binding", "META", `obj:${key}`, "--local", "--persist-to", state], { cwd: REPO });
    const manifest = JSON.parse(stdout) as { blob: string };
    const altered = Buffer.from(original);
    altered[offset] = (altered[offset] ?? 0) ^ 0xff;
    const file = join(dir, "altered.bin");
    await writeFile(file, altered);
    await run(WRANGLER, ["r2", "object", "put", `verigate-objects/${manifest.blob}`, "--local", "--persist-to", state, "--file", file], { cwd: REPO });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "verigate-cli-"));
    state = join(dir, "state");
    const admin = JSON.parse((await run(process.execPath, [BIN, "keygen", adminKey(), "--kid", "cli-admin", "--json"], { cwd: dir })).stdout) as {
      keyid: string;
      public_key: string;
    };
    server = await startWranglerDev(
      [
        "--var",
        `ADMIN_KEYS:${admin.keyid}=${admin.public_key}`,
        "--var",
        `PRESIGN_SECRET:${randomBytes(32).toString("base64url")}`,
        "--var",
        `MAX_OBJECT_BYTES:${MAX_OBJECT_BYTES}`,
        "--var",
        `MAX_UPLOAD_SESSION_BYTES:${MAX_OBJECT_BYTES}`,
      ],
      state,
    );
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs as `npx verigate` from the repository", async () => {
    const { stdout } = await run("npx", ["verigate", "--version"], { cwd: REPO });
    expect(stdout.trim()).toBe(VERSION);
  });

  it("keygen writes a 0600 private JWK and prints its keyid, the JWK thumbprint", async () => {
    const printed = json<{ keyid: string; public_key: string }>(await verigate(["keygen", userKey(), "--json"]));
    expect((await stat(userKey())).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(await readFile(userKey(), "utf8")) as { kty: string; crv: string; x: string; d: string; kid: string };
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", kid: printed.keyid, x: printed.public_key });
    expect(jwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(printed.keyid).toBe(await ed25519Thumbprint(jwk.x));

    const again = await verigate(["keygen", userKey()]);
    expect(again.code).toBe(EXIT_USAGE);
    expect(JSON.parse(await readFile(userKey(), "utf8"))).toEqual(jwk);
  });

  it("keys add registers the key with its scopes, and whoami then answers as that key", async () => {
    const added = json(await verigate(["keys", "add", "--jwk", userKey(), "--scope", "team-a/=read,write,list,delete,presign", "--json"], { key: adminKey() }));
    const { kid } = JSON.parse(await readFile(userKey(), "utf8")) as { kid: string };
    expect(added).toMatchObject({ keyid: kid, alg: "ed25519", status: "active", admin: false });

    const me = json(await verigate(["whoami", "--json"]));
    expect(me).toEqual({ keyid: kid, alg: "ed25519", admin: false, scopes: [{ prefix: "team-a/", actions: ["read", "write", "list", "delete", "presign"] }] });
    const listed = json<{ keyid: string }[]>(await verigate(["keys", "list", "--json"], { key: adminKey() }));
    expect(listed.map((record) => record.keyid)).toContain(kid);
  });

  it("puts a 5 MiB file and gets it back byte-identical, with no progress output when not a terminal", async () => {
    const content = randomBytes(5 * MIB + 123);
    await writeFile(join(dir, "big.bin"), content);
    const put = json(await verigate(["put", "big.bin", "team-a/big.bin", "--json"]));
    expect(put).toMatchObject({ key: "team-a/big.bin", size: content.length, sha256: await sha256Hex(new Uint8Array(content)) });

    const got = json(await verigate(["get", "team-a/big.bin", "-o", "big.out", "--json"]));
    expect(got).toMatchObject({ file: "big.out", size: content.length });
    expect((await readFile(join(dir, "big.out"))).equals(content)).toBe(true);
  });

  it("head and ls describe the stored object", async () => {
    const head = json(await verigate(["head", "team-a/big.bin", "--json"]));
    const expected = await sha256Hex(new Uint8Array(await readFile(join(dir, "big.bin"))));
    expect(head).toMatchObject({ key: "team-a/big.bin", size: 5 * MIB + 123, sha256: expected, etag: `"${expected}"` });
    const listed = json<{ key: string; sha256: string }[]>(await verigate(["ls", "team-a/", "--json"]));
    expect(listed).toContainEqual(expect.objectContaining({ key: "team-a/big.bin", sha256: expected }));
    expect((await verigate(["ls", "team-a/"])).stdout).toContain("team-a/big.bin");
  });

  it("put --if-none-match refuses to replace an object: exit 2, already_exists", async () => {
    const result = await verigate(["put", "big.bin", "team-a/big.bin", "--if-none-match"]);
    expect(result.code).toBe(EXIT_API_ERROR);
    expect(result.stderr).toMatch(/already_exists \(409\).*request id [0-9a-f-]{36}/);
  });

  it("refuses a key outside the caller's scopes: exit 2, forbidden", async () => {
    const result = await verigate(["put", "big.bin", "team-b/big.bin"]);
    expect(result.code).toBe(EXIT_API_ERROR);
    expect(result.stderr).toContain("forbidden");
  });

  it("rm deletes an object, after which head exits 2 with not_found", async () => {
    await putRandom("team-a/doomed.bin", 1000);
    expect(await verigate(["rm", "team-a/doomed.bin"])).toMatchObject({ code: 0, stderr: "" });
    const head = await verigate(["head", "team-a/doomed.bin"]);
    expect(head.code).toBe(EXIT_API_ERROR);
    expect(head.stderr).toContain("not_found");
  });

  it("presign gives a link that serves the object without a key; a single-use link serves once", async () => {
    const content = await putRandom("team-a/shared.bin", 200_000);
    const link = json<{ url: string; mode: string; integrity: { sha256: string; size: number } }>(
      await verigate(["presign", "team-a/shared.bin", "--single-use", "--expires", "60", "--json"]),
    );
    expect(link).toMatchObject({ mode: "gateway", integrity: { sha256: await sha256Hex(new Uint8Array(content)), size: content.length } });
    const first = await fetch(link.url);
    expect(Buffer.from(await first.arrayBuffer()).equals(content)).toBe(true);
    const second = await fetch(link.url);
    expect(second.status).toBe(410);
    expect(await second.json()).toMatchObject({ code: "link_used" });

    const saved = await verigate(["presign", "team-a/shared.bin", "-o", "shared.out"]);
    expect(saved.code).toBe(0);
    expect(saved.stdout.trim()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/dl\//);
    expect((await readFile(join(dir, "shared.out"))).equals(content)).toBe(true);
  });

  it("a key the gateway does not know is refused: exit 2, signature_invalid", async () => {
    await verigate(["keygen", join(dir, "stranger.jwk")]);
    const result = await verigate(["whoami"], { key: join(dir, "stranger.jwk") });
    expect(result.code).toBe(EXIT_API_ERROR);
    expect(result.stderr).toMatch(/signature_invalid \(401\)/);
    // The gateway says nothing more (key existence is not revealed); the CLI says what to check (issue #16, item 4).
    expect(result.stderr).toContain("hint: check that the gateway knows this key: `verigate whoami`");
    expect(result.stderr).toContain("`verigate keys add`");
  });

  it("prints the gateway's detail of a refusal: a read-only key may not write", async () => {
    const keygen = await verigate(["keygen", join(dir, "reader.jwk"), "--kid", "cli-reader"]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const added = await verigate(["keys", "add", "--jwk", join(dir, "reader.jwk"), "--scope", "ro/=read"], { key: adminKey() });
    expect(added.code, added.stderr).toBe(0);
    await writeFile(join(dir, "ro.txt"), "x");
    const result = await verigate(["put", join(dir, "ro.txt"), "ro/x.txt"], { key: join(dir, "reader.jwk") });
    expect(result.code).toBe(EXIT_API_ERROR);
    expect(result.stderr).toContain("forbidden (403): The key has no scope that allows this: key cli-reader may not write ro/x.txt");
  });

  it("a clock an hour behind is refused: exit 2, signature_expired, by flag or environment", async () => {
    const byFlag = await verigate(["whoami", "--clock-offset", "-3600"]);
    expect(byFlag.code).toBe(EXIT_API_ERROR);
    expect(byFlag.stderr).toContain("signature_expired");
    const byEnv = await verigate(["whoami"], { env: { VERIGATE_CLOCK_OFFSET: "-3600" } });
    expect(byEnv.code).toBe(EXIT_API_ERROR);
    expect(byEnv.stderr).toContain("signature_expired");
  });

  it("a signed request captured and sent again is refused as replayed_request, and the replayed PUT commits nothing", async () => {
    const client = new VerigateClient({ endpoint: server.origin, key: await importJwk(JSON.parse(await readFile(userKey(), "utf8"))) });
    const whoami = await client.prepare("GET", "/v1/whoami");
    expect((await client.send(whoami)).status).toBe(200);
    const replayed = await client.send(whoami);
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toMatchObject({ code: "replayed_request" });

    const put = await client.prepare("PUT", "/v1/objects/team-a/replayed.txt", new TextEncoder().encode("first"));
    expect((await client.send(put)).status).toBe(201);
    await client.putObject("team-a/replayed.txt", "second");
    const again = await client.send(put);
    expect(await again.json()).toMatchObject({ code: "replayed_request" });
    expect(new TextDecoder().decode((await client.getObjectBytes("team-a/replayed.txt")).bytes)).toBe("second");
  });

  it("get exits 3 and writes nothing when the stored blob was altered in its first chunk", async () => {
    const content = await putRandom("team-a/tampered-head.bin", 3 * MIB);
    await tamper("team-a/tampered-head.bin", content, 10);
    const out = join(dir, "out-head");
    await mkdir(out);
    const result = await verigate(["get", "team-a/tampered-head.bin", "-o", join(out, "file.bin")]);
    expect(result.code).toBe(EXIT_INTEGRITY);
    expect(result.stderr).toContain("integrity_failure");
    expect(await readdir(out)).toEqual([]);
  });

  it("get exits 3 and writes no file.bin when a later chunk was altered and the gateway cuts the response; a rerun is refused at that chunk", async () => {
    const content = await putRandom("team-a/tampered-tail.bin", 5 * MIB);
    await tamper("team-a/tampered-tail.bin", content, 4 * MIB + 7);
    const out = join(dir, "out-tail");
    await mkdir(out);
    const result = await verigate(["get", "team-a/tampered-tail.bin", "-o", join(out, "file.bin")]);
    expect(result.code).toBe(EXIT_INTEGRITY);
    expect(result.stderr).toContain("short_response");
    // What arrived was verified chunk by chunk by the gateway, and is kept only as the partial file of a resume.
    expect((await readdir(out)).sort()).toEqual(["file.bin.partial", "file.bin.partial.json"]);
    const kept = await readFile(join(out, "file.bin.partial"));
    expect(kept.length).toBeLessThanOrEqual(4 * MIB);
    expect(kept.equals(content.subarray(0, kept.length))).toBe(true);

    const rerun = await verigate(["get", "team-a/tampered-tail.bin", "-o", join(out, "file.bin")]);
    expect(rerun.code).toBe(EXIT_INTEGRITY);
    expect(rerun.stderr).toMatch(/integrity_failure|short_response/);
    expect(await readdir(out)).not.toContain("file.bin");
  });

  it("keys revoke stops the key: its next signature is refused", async () => {
    await verigate(["keygen", join(dir, "temp.jwk"), "--kid", "temp-key"]);
    json(await verigate(["keys", "add", "--jwk", join(dir, "temp.jwk"), "--json"], { key: adminKey() }));
    expect((await verigate(["whoami"], { key: join(dir, "temp.jwk") })).code).toBe(0);
    expect(await verigate(["keys", "revoke", "temp-key"], { key: adminKey() })).toMatchObject({ code: 0, stderr: "" });
    const refused = await verigate(["whoami"], { key: join(dir, "temp.jwk") });
    expect(refused.code).toBe(EXIT_API_ERROR);
    expect(refused.stderr).toContain("signature_invalid");
  });

  it("lfs token create prints the token once and git commands that store it for git, which forgets it once rejected; list and revoke", async () => {
    const created = await verigate(["lfs", "token", "create", "cli-repo", "--write", "--expires", "3600"], { key: adminKey() });
    expect(created).toMatchObject({ code: 0, stderr: "" });
    const token = /^token +(vglfs_[0-9a-f]{24}_[A-Za-z0-9_-]{43}) \(shown once\)$/m.exec(created.stdout)?.[1] ?? "";
    const id = token.slice("vglfs_".length, "vglfs_".length + 24);
    expect(created.stdout).toMatch(/^access +write$/m);
    const lines = created.stdout
      .slice(created.stdout.indexOf("in the repository:\n") + "in the repository:\n".length)
      .trimEnd()
      .split("\n");
    expect(lines).toEqual([
      `git config lfs.url ${server.origin}/lfs/cli-repo`,
      expect.stringContaining(`git config credential.${server.origin}.helper "store --file=`),
      expect.stringMatching(/\| git credential approve$/),
    ]);
    // The printed lines, run by a shell in a fresh repository, make git hand the token to whoever asks for the gateway.
    const repo = join(dir, "lfs-repo");
    await run("git", ["init", "-q", repo]);
    await run("sh", ["-c", lines.join("\n")], { cwd: repo });
    const url = new URL(server.origin);
    const credential = `protocol=${url.protocol.slice(0, -1)}\nhost=${url.host}\n`;
    const git = (action: string, input: string) =>
      spawnSync("git", ["credential", action], { cwd: repo, input: `${input}\n`, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" }, encoding: "utf8" });
    expect(git("fill", credential).stdout).toContain(`password=${token}`);
    // Regression: the first version printed a helper answering every `get` with the token; git-lfs 3.3 resubmits
    // such an answer forever once the gateway refuses it (an expired or revoked token). A store forgets it.
    git("reject", `${credential}username=lfs\npassword=${token}\n`);
    expect(git("fill", credential).stdout).not.toContain(token);

    const listed = json<{ id: string; repo: string; access: string }[]>(
      await verigate(["lfs", "token", "list", "--repo", "cli-repo", "--json"], { key: adminKey() }),
    );
    expect(listed).toEqual([expect.objectContaining({ id, repo: "cli-repo", access: "write" })]);
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(await verigate(["lfs", "token", "revoke", id], { key: adminKey() })).toMatchObject({ code: 0, stderr: "" });
    expect(json(await verigate(["lfs", "token", "list", "--repo", "cli-repo", "--json"], { key: adminKey() }))).toEqual([]);
    const again = await verigate(["lfs", "token", "revoke", id], { key: adminKey() });
    expect(again.code).toBe(EXIT_API_ERROR);
    expect(again.stderr).toContain("not_found");
    expect((await verigate(["lfs", "token", "frobnicate"], { key: adminKey() })).code).toBe(EXIT_USAGE);
  });

  it("exits 1 on usage errors and 4 when the gateway cannot be reached", async () => {
    expect((await verigate(["whoami"], { env: { VERIGATE_ENDPOINT: "" } })).code).toBe(EXIT_USAGE);
    expect((await verigate(["frobnicate"])).code).toBe(EXIT_USAGE);
    expect((await verigate(["get"])).code).toBe(EXIT_USAGE);
    const unreachable = await verigate(["whoami"], { env: { VERIGATE_ENDPOINT: `http://127.0.0.1:${await freePort()}` } });
    expect(unreachable.code).toBe(EXIT_NETWORK_IO);
    expect(unreachable.stderr).toContain("ECONNREFUSED");
  });

  it("--help lists every exit code client/README.md documents, and --version", async () => {
    const help = await verigate(["--help"]);
    expect(help.code).toBe(EXIT_OK);
    expect(help.stdout).toContain("verigate --version");
    const readme = await readFile(join(REPO, "client/README.md"), "utf8");
    const documented = [...readme.slice(readme.indexOf("### Exit codes")).matchAll(/^\| (\d+) \|/gm)].map((match) => Number(match[1]));
    const listed = [...help.stdout.slice(help.stdout.indexOf("exit codes:")).matchAll(/^ +(\d+) {2}/gm)].map((match) => Number(match[1]));
    expect(listed).toEqual(documented);
    expect(listed).toEqual(EXIT_CODE_MEANINGS.map(([code]) => code));
    expect((await verigate(["--version"])).stdout.trim()).toBe(VERSION);
  });

  it("stops quietly, exit 0, when its reader closes the pipe (regression: `verigate ls | head -1` died on EPIPE with a stack trace)", async () => {
    const env = { ...process.env, VERIGATE_ENDPOINT: server.origin, VERIGATE_KEY: userKey() };
    // `true` exits without reading, so every line `ls` writes meets a closed pipe.
    const piped = spawnSync("bash", ["-c", 'set -o pipefail; "$0" "$1" ls team-a/ | true', process.execPath, BIN], { cwd: dir, env, encoding: "utf8" });
    expect(piped.stderr).toBe("");
    expect(piped.status).toBe(EXIT_OK);
  });

  it("keygen without a file writes to ~/.config/verigate (XDG_CONFIG_HOME), never the working directory", async () => {
    const config = join(dir, "xdg");
    const { VERIGATE_KEY: _unset, ...env } = process.env;
    const result = await run(process.execPath, [BIN, "keygen", "--json"], { cwd: dir, env: { ...env, XDG_CONFIG_HOME: config } });
    const printed = JSON.parse(result.stdout) as { keyid: string; file: string };
    expect(printed.file).toBe(join(config, "verigate", `${printed.keyid}.jwk`));
    expect((await stat(printed.file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(config, "verigate"))).mode & 0o777).toBe(0o700);
  });

  it("keygen warns when git would commit the key it wrote, and not when the path is ignored", async () => {
    const repo = join(dir, "a-repo");
    await mkdir(repo);
    await run("git", ["init", "-q"], { cwd: repo });
    await writeFile(join(repo, ".gitignore"), ".verigate/\n");
    const exposed = await verigate(["keygen", join(repo, "me.jwk")]);
    expect(exposed.code).toBe(EXIT_OK);
    expect(exposed.stderr).toContain(`warning: ${join(repo, "me.jwk")} is in a git work tree and not ignored`);
    const ignored = await verigate(["keygen", join(repo, ".verigate/me.jwk")]);
    expect(ignored).toMatchObject({ code: EXIT_OK, stderr: "" });
  });

  it("put refuses a file above the gateway's limits before sending any of it (regression: 150 MiB went up whole, then 413)", async () => {
    // Above MAX_OBJECT_BYTES the file goes to an upload session, whose create answers 413 above MAX_UPLOAD_SESSION_BYTES.
    await writeFile(join(dir, "too-big.bin"), Buffer.alloc(MAX_OBJECT_BYTES + 1));
    const before = server.output().length;
    const result = await verigate(["put", "too-big.bin", "team-a/too-big.bin"]);
    expect(result.code).toBe(EXIT_API_ERROR);
    expect(result.stderr).toContain(
      `verigate: too_large (413): The body is too large: ${MAX_OBJECT_BYTES + 1} bytes declared; the limit for an upload session is ${MAX_OBJECT_BYTES}`,
    );
    // wrangler dev logs each request it serves: the CLI asked /healthz and the session's create, and sent no bytes.
    const served = server.output().slice(before);
    expect(served).toContain("GET /healthz 200");
    expect(served).toContain("POST /v1/uploads 413");
    expect(served).not.toContain("PUT /v1/");
    expect((await verigate(["head", "team-a/too-big.bin"])).stderr).toContain("not_found");
  });

  const onTerminal = HAS_SCRIPT ? it : it.skip;
  onTerminal(
    `on a terminal, put shows progress while hashing and while sending${HAS_SCRIPT ? "" : " (skipped: no \`script\` command to make a terminal)"}`,
    async () => {
      const env = { ...process.env, VERIGATE_ENDPOINT: server.origin, VERIGATE_KEY: userKey() };
      const command = `"${process.execPath}" "${BIN}" put big.bin team-a/tty.bin`;
      const terminal = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: dir, env, encoding: "utf8" });
      expect(terminal.status).toBe(EXIT_OK);
      expect(terminal.stdout).toContain("hash [");
      expect(terminal.stdout).toContain("put [");
      expect(terminal.stdout.indexOf("hash [")).toBeLessThan(terminal.stdout.indexOf("put ["));
    },
  );

  it("sign prints headers that curl sends as they are: whoami 200 with `curl -H @file`", async () => {
    const signed = await verigate(["sign", "GET", `${server.origin}/v1/whoami`]);
    expect(signed).toMatchObject({ code: EXIT_OK, stderr: "" });
    expect(signed.stdout).toMatch(
      /^Signature-Input: sig1=\("@method" "@authority" "@path" "@query"\);created=\d+;nonce="[\w-]{43}";keyid="[^"]+"\nSignature: sig1=:[\w+/]+=*:\n$/,
    );
    await writeFile(join(dir, "headers.txt"), signed.stdout);
    const { stdout } = await run("curl", ["-sS", "-w", "\n%{http_code}", "-H", "@headers.txt", `${server.origin}/v1/whoami`], { cwd: dir });
    const [body = "", status] = stdout.split("\n");
    expect(status).toBe("200");
    expect(JSON.parse(body)).toMatchObject({ alg: "ed25519", admin: false });
  });

  it("sign --curl prints a command that uploads a --body-file (201) and one that reads it back, for a path on the endpoint", async () => {
    const content = randomBytes(50_000);
    await writeFile(join(dir, "from-curl.bin"), content);
    const put = await verigate(["sign", "PUT", "/v1/objects/team-a/from-curl.bin", "--body-file", "from-curl.bin", "--curl"]);
    expect(put.stdout).toMatch(
      /^curl -sS -X PUT -H 'Content-Digest: sha-256=:[\w+/]+=*:' -H 'Signature-Input: sig1=\("@method" "@authority" "@path" "@query" "content-digest"\)/,
    );
    const uploaded = await run("sh", ["-c", `${put.stdout.trim()} -w '\n%{http_code}'`], { cwd: dir });
    expect(uploaded.stdout.split("\n").at(-1)).toBe("201");
    expect(JSON.parse(uploaded.stdout.split("\n")[0] ?? "")).toMatchObject({
      key: "team-a/from-curl.bin",
      size: content.length,
      sha256: await sha256Hex(new Uint8Array(content)),
    });

    const get = await verigate(["sign", "get", "/v1/objects/team-a/from-curl.bin", "--curl"]);
    const downloaded = await run("sh", ["-c", `${get.stdout.trim()} -o from-curl.out`], { cwd: dir });
    expect(downloaded.stderr).toBe("");
    expect((await readFile(join(dir, "from-curl.out"))).equals(content)).toBe(true);
    // The same command again is a replay: each signature is good for one request.
    const replayed = await run("sh", ["-c", get.stdout.trim()], { cwd: dir });
    expect(JSON.parse(replayed.stdout)).toMatchObject({ code: "replayed_request" });
  });

  it("sign refuses a URL that is neither absolute nor a path: exit 1", async () => {
    const result = await verigate(["sign", "GET", "v1/whoami"]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("must be absolute");
  });
});
