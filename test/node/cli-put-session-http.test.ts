import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MIB } from "../../shared/bytes.ts";
import type { VerigateApiError } from "../../client/sdk/errors.ts";
import { randomBytes, sha256Hex } from "./support/bytes.ts";
import { type CliResult, runCli, spawnCli } from "./support/cli-runner.ts";
import type { ProxiedRequest } from "./support/interrupting-proxy.ts";
import { type ProxiedGateway, startProxiedGateway } from "./support/proxied-gateway.ts";
import { RUNTIMES } from "./support/runtimes.ts";

/** The smallest part R2 and S3 take: three parts make a 12 MiB file, with a short last one. */
const PART = 5 * MIB;
const SIZE = 2 * PART + 123_456;
const THRESHOLD = "6MiB";
/** The gateway's MAX_OBJECT_BYTES: below the file, above the threshold. */
const PUT_LIMIT = 8 * MIB;
const POLL_MS = 10;
const PART_REQUEST = /^\/v1\/uploads\/[0-9A-Z]{26}\/parts\/(\d+)(\/presign)?$/;

/** `verigate put` above its session threshold: parts through an upload session, resumed when run again; over real HTTP on each build. */
describe.each(RUNTIMES)("verigate put in parts on %s", (runtime, start) => {
  let fixture: ProxiedGateway;
  let root: string;
  let dir: string;
  let env: Record<string, string>;
  let counter = 0;

  const verigate = (args: string[]): Promise<CliResult> => runCli(args, { cwd: dir, env });
  const put = (key: string, ...flags: string[]) => verigate(["put", "big.bin", key, "--session-threshold", THRESHOLD, "--json", ...flags]);

  /** Part numbers sent since `since`, by the route they went through: gateway PUTs, and direct ones (presign, then register). */
  function partsSent(since: number): { gateway: number[]; direct: number[] } {
    const parts = (requests: ProxiedRequest[]) => requests.map((request) => Number(PART_REQUEST.exec(request.url)?.[1])).sort((a, b) => a - b);
    const sent = fixture.proxy.requests.slice(since).filter((request) => PART_REQUEST.test(request.url) && request.status === 200);
    return {
      gateway: parts(sent.filter((request) => request.method === "PUT")),
      direct: parts(sent.filter((request) => request.method === "POST" && !request.url.endsWith("/presign"))),
    };
  }

  /** Parts go through the gateway, except on Lambda, whose 6 MB payload limit leaves them to storage. */
  const viaGateway = runtime !== "lambda";
  const expectParts = (since: number, parts: number[]) =>
    expect(partsSent(since)).toEqual(viaGateway ? { gateway: parts, direct: [] } : { gateway: [], direct: parts });

  async function expectStored(key: string, content: Uint8Array): Promise<void> {
    const { bytes } = await fixture.user.getObjectBytes(key);
    expect(sha256Hex(bytes)).toBe(sha256Hex(content));
  }

  /** An aborted session answers 404, or (until its record is swept) `failed` with the abort as its failure. */
  async function expectAborted(uploadId: string): Promise<void> {
    const status = await fixture.user.uploadStatus(uploadId).catch((error: unknown) => {
      expect(error).toMatchObject({ code: "not_found" });
      return null;
    });
    if (status !== null) expect(status).toMatchObject({ state: "failed", failure: { code: "not_found", detail: "the upload session was aborted" } });
  }

  /**
   * Starts `put big.bin <key>` one part at a time and kills it (SIGKILL) once part `part` is stored but before its
   * answer arrives (the proxy holds the answer back); the id of the session its resume state names.
   */
  async function killedUpload(key: string, part: number): Promise<string> {
    const stall = fixture.proxy.interrupt({
      method: viaGateway ? "PUT" : "POST",
      url: /^\/v1\/uploads\/\w+\/parts\/\d+$/,
      skip: part - 1,
      afterBytes: 0,
      how: "stall",
    });
    const { child, result } = spawnCli(["put", "big.bin", key, "--session-threshold", THRESHOLD, "--parallel", "1"], { cwd: dir, env });
    await stall;
    child.kill("SIGKILL");
    await result;
    const [state, ...others] = await stateFiles();
    expect(others).toEqual([]);
    return (JSON.parse(await readFile(join(dir, "config/verigate/uploads", state ?? ""), "utf8")) as { upload_id: string }).upload_id;
  }

  const stateFiles = () => readdir(join(dir, "config/verigate/uploads")).catch(() => []);

  beforeAll(async () => {
    fixture = await startProxiedGateway(start, {
      UPLOAD_PART_BYTES: String(PART),
      MAX_OBJECT_BYTES: String(PUT_LIMIT),
      // One chunk per complete call, so every session's complete answers 202 and is called again.
      COMPLETE_SLICE_BYTES: String(MIB),
    });
    root = await mkdtemp(join(tmpdir(), "verigate-put-session-"));
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(root, `case-${counter++}-`));
    env = { VERIGATE_ENDPOINT: fixture.proxy.origin, VERIGATE_KEY: await fixture.writeUserKey(dir), XDG_CONFIG_HOME: join(dir, "config") };
  });

  afterAll(async () => {
    await fixture?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("uploads a file above --session-threshold in parts, committed whole and read back identical; no resume state is left", async () => {
    const content = randomBytes(SIZE);
    await writeFile(join(dir, "big.bin"), content);
    const since = fixture.proxy.requests.length;
    const result = await put("parts/round-trip.bin");
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ key: "parts/round-trip.bin", size: SIZE, sha256: sha256Hex(content) });
    expectParts(since, [1, 2, 3]);
    expect(fixture.proxy.requests.slice(since).some((request) => request.method === "PUT" && request.url.startsWith("/v1/objects/"))).toBe(false);
    await expectStored("parts/round-trip.bin", content);
    expect(await stateFiles()).toEqual([]);

    const got = await verigate(["get", "parts/round-trip.bin", "-o", "copy.bin"]);
    expect(got.code, got.stderr).toBe(0);
    expect((await readFile(join(dir, "copy.bin"))).equals(content)).toBe(true);
  });

  it("resumes an upload whose CLI was killed after its second part: the rerun sends only the third", async () => {
    const content = randomBytes(SIZE);
    await writeFile(join(dir, "big.bin"), content);
    const uploadId = await killedUpload("parts/killed.bin", 2);
    expect((await fixture.user.uploadStatus(uploadId)).parts.map((part) => part.part)).toEqual([1, 2]);
    expect((await fixture.user.headObject("parts/killed.bin").catch((error: unknown) => error)) as VerigateApiError).toMatchObject({ code: "not_found" });

    const since = fixture.proxy.requests.length;
    const resumed = await put("parts/killed.bin");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming upload ${uploadId}`);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ size: SIZE, sha256: sha256Hex(content) });
    expectParts(since, [3]);
    await expectStored("parts/killed.bin", content);
    expect(await stateFiles()).toEqual([]);
  });

  it("starts a new session for a file changed since its interrupted upload, and aborts the old one", async () => {
    await writeFile(join(dir, "big.bin"), randomBytes(SIZE));
    const oldId = await killedUpload("parts/changed.bin", 1);

    const changed = randomBytes(SIZE + 1);
    await writeFile(join(dir, "big.bin"), changed);
    const since = fixture.proxy.requests.length;
    const rerun = await put("parts/changed.bin");
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`big.bin changed since upload ${oldId} began; starting a new upload session`);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ size: changed.length, sha256: sha256Hex(changed) });
    expectParts(since, [1, 2, 3]);
    await expectStored("parts/changed.bin", changed);
    await expectAborted(oldId);
  });

  const onAws = runtime === "workers" ? it.skip : it;
  onAws(
    `--direct sends every part straight to S3 through presigned URLs${runtime === "workers" ? " (skipped on workers: storage presign is off here)" : ""}`,
    async () => {
      const content = randomBytes(SIZE);
      await writeFile(join(dir, "big.bin"), content);
      const since = fixture.proxy.requests.length;
      const result = await put("parts/direct.bin", "--direct", "--parallel", "3");
      expect(result.code, result.stderr).toBe(0);
      expect(partsSent(since)).toEqual({ gateway: [], direct: [1, 2, 3] });
      const presigned = fixture.proxy.requests.slice(since).filter((request) => request.url.endsWith("/presign"));
      expect(presigned).toHaveLength(3);
      await expectStored("parts/direct.bin", content);
    },
  );

  it("uploads a file above the gateway's PUT limit in parts even under --session-threshold", async () => {
    const content = randomBytes(SIZE);
    await writeFile(join(dir, "big.bin"), content);
    const since = fixture.proxy.requests.length;
    const result = await verigate(["put", "big.bin", "parts/above-limit.bin", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expectParts(since, [1, 2, 3]);
    await expectStored("parts/above-limit.bin", content);
  });

  it("SDK putLarge uploads a Blob, reporting progress, and follows every 202 of complete to the commit", async () => {
    const content = randomBytes(SIZE);
    const stored: number[] = [];
    const verified: number[] = [];
    const result = await fixture.user.putLarge("parts/sdk.bin", new Blob([content]), {
      concurrency: 2,
      onProgress: (bytes) => stored.push(bytes),
      onVerifying: (pending) => verified.push(pending.verified_bytes),
    });
    expect(result).toMatchObject({ key: "parts/sdk.bin", size: SIZE, sha256: sha256Hex(content) });
    expect(stored.at(-1)).toBe(SIZE);
    expect(stored).toEqual([...stored].sort((a, b) => a - b));
    // A 1 MiB slice per call: complete answered 202 until the last slice.
    expect(verified.length).toBeGreaterThanOrEqual(Math.floor(SIZE / MIB) - 1);
    expect(verified).toEqual([...verified].sort((a, b) => a - b));
    await expectStored("parts/sdk.bin", content);
  });

  it("a file at or under the threshold still goes up in one PUT", async () => {
    const content = randomBytes(MIB);
    await writeFile(join(dir, "big.bin"), content);
    const since = fixture.proxy.requests.length;
    const result = await put("parts/small.bin");
    expect(result.code, result.stderr).toBe(0);
    const sent = fixture.proxy.requests.slice(since).map((request) => `${request.method} ${request.url}`);
    expect(sent).toContain("PUT /v1/objects/parts/small.bin");
    expect(sent.some((line) => line.includes("/v1/uploads"))).toBe(false);
    await expectStored("parts/small.bin", content);
    expect((await stat(join(dir, "big.bin"))).size).toBe(MIB);
  });
});
