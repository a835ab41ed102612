import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EXIT_API_ERROR, EXIT_INTEGRITY, EXIT_USAGE } from "../../client/cli/exit-codes.ts";
import { downloadDirect } from "../../client/cli/direct-download.ts";
import { VerigateClient } from "../../client/sdk/client.ts";
import { generateEd25519Key, importJwk } from "../../client/sdk/keys.ts";
import type { Action } from "../../client/sdk/types.ts";
import { KIB, MIB } from "../../shared/bytes.ts";
import type { AwsGateway } from "./support/aws-stores.ts";
import { randomBytes, sha256Hex } from "./support/bytes.ts";
import { type CliResult, runCli, spawnCli } from "./support/cli-runner.ts";
import { type InterruptingProxy, type ProxiedRequest, startInterruptingProxy } from "./support/interrupting-proxy.ts";
import { type ProxiedGateway, startProxiedGateway } from "./support/proxied-gateway.ts";
import { describeUnless, RUNTIMES } from "./support/runtimes.ts";

const CHUNK = 64 * KIB;
/** The smallest part S3 takes: three parts, the last one short, so the blob is a real multipart object. */
const PART = 5 * MIB;
const SIZE = 2 * PART + 123_456;
/** The downloader's Range requests are 8 MiB: 128 chunks of 64 KiB, so SIZE takes two of them. */
const CHUNKS_PER_RANGE = 128;
const CHUNK_COUNT = Math.ceil(SIZE / CHUNK);
/** A presigned storage GET carries its signature in the query. */
const STORAGE_GET = /X-Amz-Signature=/;
const NO_S3_API = "local R2 has no S3 API to presign a URL of (PRESIGN_STORAGE needs S3 settings)";

/**
 * `verigate get --direct` over real HTTP on the AWS builds (PRESIGN_STORAGE=on, s3rver): plans from the gateway,
 * bytes straight from storage. Storage is reached through an interrupting proxy (S3_ENDPOINT), so a case can see,
 * cut or stall the Range requests the presigned URLs are fetched with.
 */
describe.each(RUNTIMES)("verigate get --direct on %s", (runtime, start) => {
  describeUnless(runtime, { workers: NO_S3_API })("plans from the gateway, verified chunks from storage", () => {
    let fixture: ProxiedGateway;
    let storage: InterruptingProxy;
    let root: string;
    let dir: string;
    let env: Record<string, string>;
    let counter = 0;

    const verigate = (args: string[], keyPath = env.VERIGATE_KEY ?? ""): Promise<CliResult> =>
      runCli(args, { cwd: dir, env: { ...env, VERIGATE_KEY: keyPath } });
    const getDirect = (key: string, ...flags: string[]) => verigate(["get", key, "-o", "out.bin", "--json", "--direct", ...flags]);

    /** A key file in `dir` for a new key with `actions` on every key. */
    async function keyWith(actions: Action[], name: string): Promise<string> {
      const { jwk } = await generateEd25519Key();
      await fixture.admin.keys.create({ keyid: jwk.kid, alg: "ed25519", public_key: jwk.x, scopes: [{ prefix: "", actions }] });
      const path = join(dir, name);
      await writeFile(path, JSON.stringify(jwk), { mode: 0o600 });
      return path;
    }

    /** Uploads `content` through an upload session (three parts), as a large object is; its blob key. */
    async function putInParts(key: string, content: Uint8Array<ArrayBuffer>): Promise<string> {
      await fixture.admin.putLarge(key, new Blob([content]));
      const manifest = (await fixture.gateway.kv.get(`obj:${key}`, "json")) as { blob: string } | null;
      if (!manifest) throw new Error(`no manifest for ${key}`);
      return manifest.blob;
    }

    /**
     * Starts `get <key> --direct --parallel 1` and kills it (SIGKILL) once its second Range request is under way: with
     * one range at a time, that is asked only once the first range is written and recorded in the state.
     */
    async function killedDirectDownload(key: string): Promise<void> {
      const stall = storage.interrupt({ method: "GET", url: STORAGE_GET, skip: 1, afterBytes: 0, how: "stall" });
      const { child, result } = spawnCli(["get", key, "-o", "out.bin", "--direct", "--parallel", "1"], { cwd: dir, env });
      await stall;
      child.kill("SIGKILL");
      await result;
    }

    /** The storage Range requests since `since`, as `start-end` strings, sorted. */
    const rangesFetched = (since: number) =>
      storage.requests
        .slice(since)
        .filter((request: ProxiedRequest) => request.method === "GET" && STORAGE_GET.test(request.url))
        .map((request) => String(request.headers.range).replace("bytes=", ""))
        .sort();
    const rangeOf = (firstChunk: number, endChunk: number) => `${firstChunk * CHUNK}-${Math.min(SIZE, endChunk * CHUNK) - 1}`;

    beforeAll(async () => {
      storage = await startInterruptingProxy();
      fixture = await startProxiedGateway(start, {
        PRESIGN_STORAGE: "on",
        CHUNK_SIZE_BYTES: String(CHUNK),
        UPLOAD_PART_BYTES: String(PART),
        S3_ENDPOINT: storage.origin,
      });
      storage.forwardTo((fixture.gateway as AwsGateway).s3Endpoint);
      root = await mkdtemp(join(tmpdir(), "verigate-get-direct-"));
    });

    beforeEach(async () => {
      dir = await mkdtemp(join(root, `case-${counter++}-`));
      env = { VERIGATE_ENDPOINT: fixture.proxy.origin, VERIGATE_KEY: await keyWith(["read", "presign"], "key.jwk") };
    });

    afterAll(async () => {
      await fixture?.stop();
      await storage?.stop();
      await rm(root, { recursive: true, force: true });
    });

    it("downloads a multi-part object in parallel Range requests straight from storage, byte-identical; no object byte passes the gateway", async () => {
      const content = randomBytes(SIZE);
      await putInParts("direct/whole.bin", content);
      const gatewaySince = fixture.proxy.requests.length;
      const storageSince = storage.requests.length;
      const result = await getDirect("direct/whole.bin", "--parallel", "3");
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ file: "out.bin", size: SIZE, sha256: sha256Hex(content), direct: true, resumed_chunks: 0 });
      expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
      expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin"]);
      expect(rangesFetched(storageSince)).toEqual([rangeOf(0, CHUNKS_PER_RANGE), rangeOf(CHUNKS_PER_RANGE, CHUNK_COUNT)].sort());
      const toGateway = fixture.proxy.requests.slice(gatewaySince).map((request) => `${request.method} ${request.url.split("?")[0]}`);
      expect(toGateway.filter((line) => line !== "GET /healthz")).toEqual(["POST /v1/plans"]);
    });

    it("stops at the first chunk altered in storage, naming its index, with exit 3 and no file left; the chunks after it are never asked", async () => {
      const content = randomBytes(SIZE);
      const blob = await putInParts("direct/tampered.bin", content);
      const tampered = content.slice();
      const chunk = 20;
      tampered[chunk * CHUNK + 100] = (tampered[chunk * CHUNK + 100] ?? 0) ^ 0xff;
      await fixture.gateway.bucket.put(blob, tampered);
      const since = storage.requests.length;
      const result = await getDirect("direct/tampered.bin", "--parallel", "1");
      expect(result.code, result.stderr).toBe(EXIT_INTEGRITY);
      expect(result.stderr).toContain(`integrity failure (digest_mismatch): chunk ${chunk} (bytes from ${chunk * CHUNK}) of direct/tampered.bin`);
      expect((await readdir(dir)).sort()).toEqual(["key.jwk"]);
      // One at a time: the first range held the bad chunk, and the second was never asked.
      expect(rangesFetched(since)).toEqual([rangeOf(0, CHUNKS_PER_RANGE)]);
    });

    it("resumes a direct download killed part way: the rerun fetches only the chunks not on disk, to identical bytes", async () => {
      const content = randomBytes(SIZE);
      await putInParts("direct/killed.bin", content);
      await killedDirectDownload("direct/killed.bin");
      expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin.partial", "out.bin.partial.json"]);
      expect(JSON.parse(await readFile(join(dir, "out.bin.partial.json"), "utf8"))).toMatchObject({ mode: "direct", key: "direct/killed.bin", size: SIZE });

      const since = storage.requests.length;
      const resumed = await getDirect("direct/killed.bin");
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ sha256: sha256Hex(content), resumed_chunks: CHUNKS_PER_RANGE });
      expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
      expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin"]);
      expect(rangesFetched(since)).toEqual([rangeOf(CHUNKS_PER_RANGE, CHUNK_COUNT)]);
    });

    it(`${runtime === "lambda" ? "continues" : "refuses to clobber"} a killed direct download when get runs again without --direct`, async () => {
      const content = randomBytes(SIZE);
      await putInParts("direct/plain-rerun.bin", content);
      await killedDirectDownload("direct/plain-rerun.bin");
      const rerun = await verigate(["get", "direct/plain-rerun.bin", "-o", "out.bin", "--json"]);
      if (runtime === "lambda") {
        expect(rerun.code, rerun.stderr).toBe(0);
        expect(JSON.parse(rerun.stdout)).toMatchObject({ direct: true, resumed_chunks: CHUNKS_PER_RANGE });
        expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
      } else {
        expect(rerun.code, rerun.stderr).toBe(EXIT_USAGE);
        expect(rerun.stderr).toContain("out.bin.partial is a direct download: continue it with `verigate get --direct`");
        expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin.partial", "out.bin.partial.json"]);
      }
    });

    it("starts over, saying so, when the object changed since the interrupted direct download began", async () => {
      await putInParts("direct/changed.bin", randomBytes(SIZE));
      await killedDirectDownload("direct/changed.bin");
      const after = randomBytes(SIZE);
      await putInParts("direct/changed.bin", after);

      const rerun = await getDirect("direct/changed.bin");
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stderr).toContain("direct/changed.bin changed since out.bin.partial was started");
      expect(JSON.parse(rerun.stdout)).toMatchObject({ sha256: sha256Hex(after), resumed_chunks: 0 });
      expect((await readFile(join(dir, "out.bin"))).equals(after)).toBe(true);
    });

    it("asks a range cut by the network again, and keeps only verified bytes", async () => {
      const content = randomBytes(SIZE);
      await putInParts("direct/cut.bin", content);
      const cut = storage.interrupt({ method: "GET", url: STORAGE_GET, afterBytes: 1_234_567, how: "cut" });
      const since = storage.requests.length;
      const result = await getDirect("direct/cut.bin", "--parallel", "1");
      await cut;
      expect(result.code, result.stderr).toBe(0);
      expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
      expect(rangesFetched(since)).toEqual([rangeOf(0, CHUNKS_PER_RANGE), rangeOf(0, CHUNKS_PER_RANGE), rangeOf(CHUNKS_PER_RANGE, CHUNK_COUNT)].sort());
    });

    /** The plan requests sent to the gateway since `since`. */
    const plansAsked = (since: number) =>
      fixture.proxy.requests.slice(since).filter((request) => request.method === "POST" && request.url === "/v1/plans").length;

    // s3rver checks a presigned URL's expiry (test/node/plans-http.test.ts sees it refuse one), but a URL expiring
    // mid-download would need a plan shorter-lived than the CLI asks for and a download slower than it; the storage
    // proxy answers one Range request as S3 answers an expired URL instead (403 AccessDenied "Request has expired").
    it("asks a fresh plan when storage refuses a range's URL as expired (403), and goes on with its URL, verified", async () => {
      const content = randomBytes(SIZE);
      await putInParts("direct/expired.bin", content);
      const gatewaySince = fixture.proxy.requests.length;
      const storageSince = storage.requests.length;
      const refused = storage.interrupt({ method: "GET", url: STORAGE_GET, skip: 1, how: "expired" });
      const result = await getDirect("direct/expired.bin", "--parallel", "1");
      await refused;
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ size: SIZE, sha256: sha256Hex(content), direct: true });
      expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
      expect(plansAsked(gatewaySince)).toBe(2);
      const second = rangeOf(CHUNKS_PER_RANGE, CHUNK_COUNT);
      expect(rangesFetched(storageSince)).toEqual([rangeOf(0, CHUNKS_PER_RANGE), second, second].sort());
      expect(storage.requests.slice(storageSince).map((request) => request.status)).toEqual([206, 403, 206]);
    });

    it("stops, keeping the verified chunks, when storage refuses the same range again with the fresh plan's URL; no endless loop", async () => {
      const content = randomBytes(SIZE);
      await putInParts("direct/refused-twice.bin", content);
      const gatewaySince = fixture.proxy.requests.length;
      const storageSince = storage.requests.length;
      const refused = storage.interrupt({ method: "GET", url: STORAGE_GET, skip: 1, how: "expired", times: 2 });
      const result = await getDirect("direct/refused-twice.bin", "--parallel", "1");
      await refused;
      expect(result.code, result.stderr).toBe(EXIT_API_ERROR);
      expect(result.stderr).toContain(
        `storage refused bytes ${CHUNKS_PER_RANGE * CHUNK}-${SIZE - 1} of direct/refused-twice.bin again with the URL of a fresh plan`,
      );
      expect(result.stderr).toContain("AccessDenied: Request has expired");
      expect(result.stderr).toContain(`${CHUNKS_PER_RANGE} of ${CHUNK_COUNT} chunks kept in out.bin.partial: run the same command again to resume`);
      expect(plansAsked(gatewaySince)).toBe(2);
      expect(storage.requests.slice(storageSince).map((request) => request.status)).toEqual([206, 403, 403]);
      expect((await readdir(dir)).sort()).toEqual(["key.jwk", "out.bin.partial", "out.bin.partial.json"]);

      const resumed = await getDirect("direct/refused-twice.bin");
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ sha256: sha256Hex(content), resumed_chunks: CHUNKS_PER_RANGE });
      expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
    });

    it.each([
      ["presign", ["read"]],
      ["read", ["presign"]],
    ] as const)("refuses a key without %s: the plan is 403, exit 2, nothing written", async (_missing, actions) => {
      await putInParts("direct/refused.bin", randomBytes(PART + 1));
      const result = await verigate(["get", "direct/refused.bin", "-o", "out.bin", "--direct"], await keyWith([...actions], "limited.jwk"));
      expect(result.code, result.stderr).toBe(EXIT_API_ERROR);
      expect(result.stderr).toContain("forbidden (403)");
      expect((await readdir(dir)).sort()).toEqual(["key.jwk", "limited.jwk"]);
    });

    it(`${runtime === "lambda" ? "goes direct" : "streams through the gateway"} without --direct: direct is the default on the Lambda build with storage presign on`, async () => {
      const content = randomBytes(PART + 1);
      await putInParts("direct/default.bin", content);
      const result = await verigate(["get", "direct/default.bin", "-o", "out.bin", "--json"]);
      expect(result.code, result.stderr).toBe(0);
      expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
      const printed = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(printed.direct === true).toBe(runtime === "lambda");
    });

    it("follows a plan cut into windows (next_offset) with each later window pinned to the first one's version", async () => {
      const content = randomBytes(SIZE);
      await putInParts("direct/windows.bin", content);
      // A gateway with a smaller window would answer just so: 50 chunks a plan, the rest from next_offset.
      const asked: unknown[] = [];
      const client = new VerigateClient({
        endpoint: fixture.proxy.origin,
        key: await importJwk(JSON.parse(await readFile(env.VERIGATE_KEY ?? "", "utf8"))),
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (!String(input).endsWith("/v1/plans")) return response;
          asked.push(JSON.parse(new TextDecoder().decode(init?.body as Uint8Array)));
          const plan = (await response.json()) as { first_chunk: number; chunks: string[]; next_offset: number | null };
          const cut = plan.chunks.length > 50;
          return Response.json({ ...plan, chunks: plan.chunks.slice(0, 50), next_offset: cut ? (plan.first_chunk + 50) * CHUNK : plan.next_offset });
        },
      });
      const got = await downloadDirect(client, "direct/windows.bin", join(dir, "out.bin"), { parallel: 2, warn: () => {}, progress: false });
      expect(got).toMatchObject({ size: SIZE, sha256: sha256Hex(content), chunkCount: CHUNK_COUNT });
      expect((await readFile(join(dir, "out.bin"))).equals(content)).toBe(true);
      expect(asked).toEqual([
        { key: "direct/windows.bin" },
        ...[50, 100, 150].map((chunk) => ({ key: "direct/windows.bin", version: got.version, offset: chunk * CHUNK })),
      ]);
    });
  });
});
