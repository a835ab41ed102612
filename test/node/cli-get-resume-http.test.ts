import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EXIT_INTEGRITY, EXIT_INTERRUPTED } from "../../client/cli/exit-codes.ts";
import { bytesOf, randomBytes, sha256Hex } from "./support/bytes.ts";
import { type CliResult, runCli, spawnCli } from "./support/cli-runner.ts";
import type { InterruptingProxy } from "./support/interrupting-proxy.ts";
import { type ProxiedGateway, startProxiedGateway } from "./support/proxied-gateway.ts";
import { RUNTIMES } from "./support/runtimes.ts";

/** Small chunks, so a 3 MiB object (under Lambda's 4.6 MB PUT cap) spans many of them and a cut lands mid-object. */
const CHUNK = 64 * 1024;
const SIZE = 3 * 1024 * 1024;
/** Where the proxy interrupts a transfer: not on a chunk boundary, as a network cut would not be. */
const CUT_AT = 1_234_567;
const POLL_MS = 10;

/** `verigate get` continues an interrupted download with a Range request pinned to its ETag, over real HTTP on each build. */
describe.each(RUNTIMES)("verigate get resumes on %s", (_runtime, start) => {
  let fixture: ProxiedGateway;
  let proxy: InterruptingProxy;
  let root: string;
  let dir: string;
  let keyPath: string;
  let counter = 0;

  const get = (key: string, env: { endpoint?: string } = {}): Promise<CliResult> =>
    runCli(["get", key, "-o", "out.bin", "--json"], { cwd: dir, env: { VERIGATE_ENDPOINT: env.endpoint ?? proxy.origin, VERIGATE_KEY: keyPath } });

  async function putObject(key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
    await fixture.admin.putObject(key, body);
  }

  /**
   * A download of `key` through the proxy, cut after `CUT_AT` body bytes: it leaves the partial file, a prefix of
   * `content`; resolves with its length. That may be short of `CUT_AT`: fetch drops the chunks it had queued but not
   * yet handed over when the connection fails.
   */
  async function cutDownload(key: string, content: Uint8Array): Promise<number> {
    const cut = proxy.interrupt({ method: "GET", url: new RegExp(`^/v1/objects/${key}$`), afterBytes: CUT_AT, how: "cut" });
    const result = await get(key);
    await cut;
    expect(result.code, result.stderr).toBe(EXIT_INTEGRITY);
    expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin.partial", "out.bin.partial.json"]);
    const kept = await readFile(join(dir, "out.bin.partial"));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(CUT_AT);
    expect(kept.equals(content.subarray(0, kept.length))).toBe(true);
    expect(result.stderr).toContain("short_response");
    expect(result.stderr).toContain(`${kept.length} bytes kept in out.bin.partial: run the same command again to resume`);
    return kept.length;
  }

  /** The proxied requests for `key`'s object since `since`. */
  const objectRequests = (key: string, since: number) =>
    proxy.requests.slice(since).filter((request) => request.method === "GET" && request.url === `/v1/objects/${key}`);

  beforeAll(async () => {
    fixture = await startProxiedGateway(start, { CHUNK_SIZE_BYTES: String(CHUNK) });
    proxy = fixture.proxy;
    root = await mkdtemp(join(tmpdir(), "verigate-get-resume-"));
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(root, `case-${counter++}-`));
    keyPath = await fixture.writeUserKey(dir);
  });

  afterAll(async () => {
    await fixture?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("keeps a cut download in out.bin.partial, and the next run fetches only the rest (If-Range on its ETag) to identical bytes", async () => {
    const content = randomBytes(SIZE);
    await putObject("resume/cut.bin", content);
    const kept = await cutDownload("resume/cut.bin", content);

    const since = proxy.requests.length;
    const resumed = await get("resume/cut.bin");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ file: "out.bin", size: SIZE, sha256: sha256Hex(content), resumed_from: kept });
    expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin"]);
    const [request, ...others] = objectRequests("resume/cut.bin", since);
    expect(others).toEqual([]);
    expect(request).toMatchObject({ status: 206, bodyBytes: SIZE - kept, headers: { range: `bytes=${kept}-`, "if-range": `"${sha256Hex(content)}"` } });
  });

  it.each([
    ["SIGKILL", 128 + 9],
    ["SIGINT", EXIT_INTERRUPTED],
  ] as const)("resumes a download whose CLI was stopped part way by %s", async (signal, code) => {
    const content = randomBytes(SIZE);
    const key = `resume/${signal}.bin`;
    await putObject(key, content);
    const stall = proxy.interrupt({ method: "GET", url: new RegExp(`^/v1/objects/${key}$`), afterBytes: CUT_AT, how: "stall" });
    const { child, result } = spawnCli(["get", key, "-o", "out.bin"], { cwd: dir, env: { VERIGATE_ENDPOINT: proxy.origin, VERIGATE_KEY: keyPath } });
    await stall;
    while ((await stat(join(dir, "out.bin.partial")).catch(() => null))?.size !== CUT_AT) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    child.kill(signal);
    const stopped = await result;
    expect(stopped.code).toBe(code);
    if (signal === "SIGINT") expect(stopped.stderr).toContain(`interrupted; ${CUT_AT} bytes kept in out.bin.partial`);

    const resumed = await get(key);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ resumed_from: CUT_AT });
    expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin"]);
  });

  it("starts over, saying so, when the object changed since the partial download began", async () => {
    const before = randomBytes(SIZE);
    const after = randomBytes(SIZE + 100);
    await putObject("resume/changed.bin", before);
    await cutDownload("resume/changed.bin", before);
    await putObject("resume/changed.bin", after);

    const since = proxy.requests.length;
    const result = await get("resume/changed.bin");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`resume/changed.bin changed since out.bin.partial was started ("${sha256Hex(before)}", now "${sha256Hex(after)}")`);
    expect(JSON.parse(result.stdout)).toMatchObject({ size: after.length, sha256: sha256Hex(after), resumed_from: 0 });
    expect((await readFile(join(dir, "out.bin"))).equals(after)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin"]);
    // One request: the gateway answered the pinned range with the whole new object.
    expect(objectRequests("resume/changed.bin", since).map((request) => [request.status, request.bodyBytes])).toEqual([[200, after.length]]);
  });

  it("discards kept bytes altered on disk once the whole SHA-256 fails, and downloads from the start: the file is never the altered bytes", async () => {
    const content = randomBytes(SIZE);
    await putObject("resume/tampered.bin", content);
    const kept = await cutDownload("resume/tampered.bin", content);
    const partial = await readFile(join(dir, "out.bin.partial"));
    partial[1000] = (partial[1000] ?? 0) ^ 0xff;
    await writeFile(join(dir, "out.bin.partial"), partial);

    const since = proxy.requests.length;
    const result = await get("resume/tampered.bin");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("the resumed download did not verify");
    expect(result.stderr).toContain("discarded out.bin.partial, downloading from the start");
    expect(JSON.parse(result.stdout)).toMatchObject({ sha256: sha256Hex(content), resumed_from: 0 });
    expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
    expect(objectRequests("resume/tampered.bin", since).map((request) => [request.status, request.bodyBytes])).toEqual([
      [206, SIZE - kept],
      [200, SIZE],
    ]);
  });

  it("discards a partial file of another object under the same name, and downloads this one", async () => {
    const first = randomBytes(SIZE);
    const second = randomBytes(1000);
    await putObject("resume/first.bin", first);
    await putObject("resume/second.bin", second);
    await cutDownload("resume/first.bin", first);

    const result = await get("resume/second.bin");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("out.bin.partial is not a download of resume/second.bin");
    expect(await bytesOf(new Response(await readFile(join(dir, "out.bin"))))).toEqual(second);
  });
});
