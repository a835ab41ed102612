import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTION_URL_BUFFERS_REQUESTS, FUNCTION_URL_TERMINATES_HTTP, itUnless, RUNTIMES } from "./support/runtimes.ts";
import { wireProblemOf } from "../support/problem.ts";
import type { GatewayHarness, RawConnection, WireResponse } from "./support/wire.ts";
import { randomBytes, sha256Hex } from "./support/bytes.ts";

const CHUNK = 64 * 1024;
/** Small enough that the boundary upload is cheap. */
const MAX_OBJECT_BYTES = 1024 * 1024;
/** Several chunks, so a failure is found after bytes already went to storage, not on the first read. */
const BODY_BYTES = 3.5 * CHUNK;
/** Lambda's quota on a synchronous invocation's request payload, which a Function URL request must fit. */
const LAMBDA_REQUEST_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** How long the gateway may take to clean up after a request whose client is gone. */
const SETTLE_MS = 5_000;

interface StoredManifest {
  key: string;
  version: string;
  sha256: string;
  blob: string;
}

interface PreviousVersion {
  key: string;
  bytes: Uint8Array;
  manifest: StoredManifest;
}

describe.each(RUNTIMES)("on %s", (runtime, start) => {
  let gateway: GatewayHarness;
  let keyCounter = 0;

  beforeAll(async () => {
    gateway = await start({ CHUNK_SIZE_BYTES: String(CHUNK), MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES) });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  async function currentManifest(key: string): Promise<StoredManifest | null> {
    return (await gateway.kv.get(`obj:${key}`, "json")) as StoredManifest | null;
  }

  async function blobKeys(): Promise<string[]> {
    const listed = await gateway.bucket.list({ prefix: "blobs/" });
    return listed.objects.map((object) => object.key).sort();
  }

  /** Pending-collection records: an upload writes one before its first byte goes to storage (docs/STORAGE.md). */
  async function pendingUploads(): Promise<number> {
    return (await gateway.kv.list({ prefix: "gc:" })).keys.length;
  }

  /** A key holding a committed version, the one every failed upload below must leave in place. */
  async function keyWithPreviousVersion(): Promise<PreviousVersion> {
    const key = `upload/${keyCounter++}.bin`;
    const bytes = randomBytes(BODY_BYTES);
    const response = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body: bytes });
    expect(response.status).toBe(201);
    const manifest = await currentManifest(key);
    if (!manifest) throw new Error(`no manifest for ${key}`);
    return { key, bytes, manifest };
  }

  /** Nothing new is visible: same manifest, GET gives the old bytes, the listing shows the old digest, no stray blob. */
  async function expectPreviousIntact(previous: PreviousVersion, blobsBefore: string[]): Promise<void> {
    expect(await currentManifest(previous.key)).toEqual(previous.manifest);
    const got = await gateway.signedFetch("GET", `/v1/objects/${previous.key}`);
    expect(got.status).toBe(200);
    expect(Buffer.compare(new Uint8Array(await got.arrayBuffer()), previous.bytes)).toBe(0);
    const list = await gateway.signedFetch("GET", `/v1/objects?prefix=${encodeURIComponent(previous.key)}`);
    const { objects } = (await list.json()) as { objects: { key: string; sha256: string; version: string }[] };
    expect(objects).toEqual([expect.objectContaining({ key: previous.key, sha256: sha256Hex(previous.bytes), version: previous.manifest.version })]);
    // The failed upload's blob is deleted before the error is answered; a cut connection may still be settling.
    await expect.poll(blobKeys, { timeout: SETTLE_MS }).toEqual(blobsBefore);
  }

  /** A PUT on a raw connection whose headers are signed for `signedBody` and declare `contentLength`; nothing of the body is sent yet. */
  async function rawPut(key: string, signedBody: Uint8Array, contentLength: number, headers: Record<string, string> = {}): Promise<RawConnection> {
    const target = `/v1/objects/${key}`;
    const signed = await gateway.signedHeaders("PUT", target, { signedBody, headers });
    // Content-Length is not a covered component, so it can be set after signing.
    return gateway.connect({ method: "PUT", target, headers: { ...signed, "Content-Length": String(contentLength) } });
  }

  /**
   * A body whose framing is wrong (it ends before its Content-Length, or runs past it) is refused with a 400
   * problem+json on every runtime and commits nothing, but who answers differs (deploy/LAMBDA.md, "The Node server
   * only"): on Workers the gateway, with `code`; on the AWS harness Node's HTTP parser refuses the connection before
   * the gateway runs, and the Node server answers `bad_request` for it (a bare 400 without a request id until issue
   * #10, finding 10). A Lambda Function URL terminates HTTP itself and never hands either over.
   */
  function expectFramingRefused(response: WireResponse | null, code: string): void {
    expect(wireProblemOf(response)).toEqual({ status: 400, code: runtime === "workers" ? code : "bad_request" });
    expect(response?.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  }

  describe("an upload that fails commits nothing and leaves the previous version readable", () => {
    it("answers 400 digest_mismatch for a body that differs from its signed digest (same length)", async () => {
      const previous = await keyWithPreviousVersion();
      const blobsBefore = await blobKeys();
      const signedBody = randomBytes(BODY_BYTES);
      const sent = signedBody.slice();
      // The last byte: every chunk before it already went to storage when the whole digest is compared.
      sent[sent.length - 1] = sent[sent.length - 1]! ^ 0xff;
      const response = await gateway.signedFetch("PUT", `/v1/objects/${previous.key}`, { body: sent, signedBody });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: "digest_mismatch" });
      await expectPreviousIntact(previous, blobsBefore);
    });

    itUnless(runtime, { lambda: FUNCTION_URL_TERMINATES_HTTP })(
      "refuses with 400 (bad_request on Workers) a body that ends before its Content-Length (client half-closes)",
      async () => {
        const previous = await keyWithPreviousVersion();
        const blobsBefore = await blobKeys();
        const body = randomBytes(BODY_BYTES);
        const connection = await rawPut(previous.key, body, body.length + 100);
        connection.write(body);
        connection.halfClose();
        expectFramingRefused(await connection.response, "bad_request");
        await expectPreviousIntact(previous, blobsBefore);
      },
    );

    itUnless(runtime, { lambda: FUNCTION_URL_TERMINATES_HTTP })(
      "refuses with 400 (digest_mismatch on Workers) a Content-Length smaller than the signed body (the rest is not read as body)",
      async () => {
        const previous = await keyWithPreviousVersion();
        const blobsBefore = await blobKeys();
        const body = randomBytes(BODY_BYTES);
        const connection = await rawPut(previous.key, body, body.length - 100);
        connection.write(body);
        expectFramingRefused(await connection.response, "digest_mismatch");
        await expectPreviousIntact(previous, blobsBefore);
      },
    );

    itUnless(runtime, { lambda: FUNCTION_URL_BUFFERS_REQUESTS })("commits nothing when the connection is cut mid-upload", async () => {
      const previous = await keyWithPreviousVersion();
      const blobsBefore = await blobKeys();
      const body = randomBytes(BODY_BYTES);
      const pendingBefore = await pendingUploads();
      const connection = await rawPut(previous.key, body, body.length);
      connection.write(body.subarray(0, body.length / 2));
      // Once the gateway has scheduled the upload's blob for collection, it is streaming this body to storage.
      await expect.poll(() => pendingUploads(), { timeout: SETTLE_MS }).toBeGreaterThan(pendingBefore);
      connection.destroy();
      expect(await connection.response).toBeNull();
      await expectPreviousIntact(previous, blobsBefore);
    });

    itUnless(runtime, { lambda: FUNCTION_URL_BUFFERS_REQUESTS })(
      "answers 413 too_large from the headers alone when Content-Length is above MAX_OBJECT_BYTES",
      async () => {
        const previous = await keyWithPreviousVersion();
        const blobsBefore = await blobKeys();
        const body = randomBytes(MAX_OBJECT_BYTES + 1);
        // Not one body byte is written: the answer must come from the declared length.
        const connection = await rawPut(previous.key, body, body.length);
        expect(wireProblemOf(await connection.response)).toEqual({ status: 413, code: "too_large" });
        await expectPreviousIntact(previous, blobsBefore);
      },
    );

    // deploy/LAMBDA.md, "Behaviour differences", 2: above Lambda's 6 MB request payload quota, AWS answers itself.
    it.runIf(runtime === "lambda").each([
      ["declared in Content-Length alone", LAMBDA_REQUEST_PAYLOAD_BYTES + 1, false],
      ["sent whole, whose base64 event exceeds the quota", 5 * 1024 * 1024, true],
    ] as const)("refuses a PUT above the Function URL payload quota, %s, with AWS's own 413 before the function runs", async (_label, size, whole) => {
      const previous = await keyWithPreviousVersion();
      const blobsBefore = await blobKeys();
      const logMark = gateway.logs().length;
      const body = randomBytes(size);
      const connection = await rawPut(previous.key, body, body.length);
      if (whole) connection.write(body);
      const response = await connection.response;
      expect(response?.status).toBe(413);
      expect(response?.headers["content-type"]).not.toBe("application/problem+json");
      expect(response?.headers["x-request-id"]).toBeUndefined();
      expect(gateway.logs().slice(logMark)).toEqual([]);
      await expectPreviousIntact(previous, blobsBefore);
    });

    it("accepts an upload of exactly MAX_OBJECT_BYTES (the limit is inclusive)", async () => {
      const body = randomBytes(MAX_OBJECT_BYTES);
      const response = await gateway.signedFetch("PUT", "/v1/objects/upload/at-limit.bin", { body });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ size: MAX_OBJECT_BYTES, sha256: sha256Hex(body) });
    });

    itUnless(runtime, { lambda: FUNCTION_URL_BUFFERS_REQUESTS })("answers 411 length_required for a chunked body without Content-Length", async () => {
      const previous = await keyWithPreviousVersion();
      const blobsBefore = await blobKeys();
      const body = randomBytes(1000);
      const target = `/v1/objects/${previous.key}`;
      const headers = await gateway.signedHeaders("PUT", target, { signedBody: body });
      const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
      const connection = gateway.connect({ method: "PUT", target, headers: { ...headers, "Transfer-Encoding": "chunked" }, body: chunked });
      expect(wireProblemOf(await connection.response)).toEqual({ status: 411, code: "length_required" });
      await expectPreviousIntact(previous, blobsBefore);
    });

    // deploy/LAMBDA.md, "Behaviour differences", 3: the Function URL hands the function the whole body, so its length is known.
    it.runIf(runtime === "lambda")("accepts a chunked body without Content-Length, which the Function URL hands over whole", async () => {
      const key = `upload/${keyCounter++}.bin`;
      const body = randomBytes(1000);
      const target = `/v1/objects/${key}`;
      const headers = await gateway.signedHeaders("PUT", target, { signedBody: body });
      const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
      const response = await gateway.connect({ method: "PUT", target, headers: { ...headers, "Transfer-Encoding": "chunked" }, body: chunked }).response;
      expect(response?.status).toBe(201);
      expect(await currentManifest(key)).toMatchObject({ sha256: sha256Hex(body) });
    });

    itUnless(runtime, { lambda: FUNCTION_URL_BUFFERS_REQUESTS })(
      "re-checks If-None-Match: * before commit, so an upload overtaken by another writer commits nothing",
      async () => {
        const key = `upload/${keyCounter++}.bin`;
        const slow = randomBytes(BODY_BYTES);
        const target = `/v1/objects/${key}`;
        const pendingBefore = await pendingUploads();
        // The slow upload passes its first precondition check while the key is still free, then stalls mid-body.
        const connection = await rawPut(key, slow, slow.length, { "If-None-Match": "*" });
        connection.write(slow.subarray(0, CHUNK));
        await expect.poll(() => pendingUploads(), { timeout: SETTLE_MS }).toBeGreaterThan(pendingBefore);
        const fast = randomBytes(1000);
        expect((await gateway.signedFetch("PUT", target, { body: fast })).status).toBe(201);
        connection.write(slow.subarray(CHUNK));
        expect(wireProblemOf(await connection.response)).toEqual({ status: 409, code: "already_exists" });
        const got = await gateway.signedFetch("GET", target);
        expect(Buffer.compare(new Uint8Array(await got.arrayBuffer()), fast)).toBe(0);
      },
    );
  });
});
