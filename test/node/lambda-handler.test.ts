import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LambdaFunctionURLEvent, StreamifyHandler } from "aws-lambda";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../functions/app.ts";
import { awsBackends } from "../../functions/aws/backends.ts";
import { LAMBDA_MAX_PUT_BYTES } from "../../shared/config/aws.ts";
import { loadConfig } from "../../shared/config/index.ts";
import { streamingHandler } from "../../functions/aws/lambda-stream.ts";
import type { Logger } from "../../shared/log.ts";
import { DynamoMetadataStore } from "../../shared/metadata/dynamodb.ts";
import type { Manifest } from "../../shared/objects/manifest.ts";
import { S3ObjectStorage } from "../../shared/storage/s3.ts";
import { newEd25519Key } from "../support/keys.ts";
import { wireProblemOf } from "../support/problem.ts";
import { storageWith } from "../support/store-overrides.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, startLocalAws } from "../../scripts/local-aws.ts";
import {
  functionUrlEvent,
  installLambdaRuntime,
  invoke,
  ResponseSink,
  signedFunctionUrlEvent,
  type EventInit,
  type StreamedResponse,
} from "../../scripts/lambda-runtime.ts";

/** The smallest chunk the gateway accepts, so multi-chunk objects stay small. */
const CHUNK = 64 * 1024;
const TABLE = "verigate-lambda";

type Handler = StreamifyHandler<LambdaFunctionURLEvent, void>;

let local: Awaited<ReturnType<typeof startLocalAws>>;
let s3Directory: string;
let dynamodb: DynamoDBClient;
let handler: Handler;
let storage: S3ObjectStorage;
let metadata: DynamoMetadataStore;
let admin: { keyid: string; privateKey: CryptoKey };
let keyCounter = 0;
const savedEnv = { ...process.env };

beforeAll(async () => {
  s3Directory = await mkdtemp(join(tmpdir(), "verigate-lambda-"));
  local = await startLocalAws({ bucket: "verigate-lambda", table: TABLE, s3Directory });
  const { vars } = local;
  dynamodb = new DynamoDBClient({ endpoint: vars.DYNAMODB_ENDPOINT, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
  storage = new S3ObjectStorage({
    endpoint: vars.S3_ENDPOINT,
    region: vars.S3_REGION,
    bucket: vars.S3_BUCKET,
    accessKeyId: vars.S3_ACCESS_KEY_ID,
    secretAccessKey: vars.S3_SECRET_ACCESS_KEY,
  });
  metadata = new DynamoMetadataStore(dynamodb, TABLE);
  const key = await newEd25519Key();
  admin = { keyid: "lambda-admin", privateKey: key.privateKey };
  // What the SAM template sets, pointed at the local servers; AWS_REGION is what the Lambda runtime sets.
  Object.assign(process.env, vars, { AWS_REGION: LOCAL_AWS_REGION, ADMIN_KEYS: `${admin.keyid}=${key.publicKey}`, CHUNK_SIZE_BYTES: String(CHUNK) });
  installLambdaRuntime();
  ({ handler } = await import("../../functions/aws/lambda.ts"));
});

afterAll(async () => {
  process.env = savedEnv;
  dynamodb?.destroy();
  await local?.stop();
  if (s3Directory) await rm(s3Directory, { recursive: true, force: true });
});

/** A Function URL event signed by the admin key. */
function signedEvent(init: EventInit): Promise<LambdaFunctionURLEvent> {
  return signedFunctionUrlEvent(init, admin);
}

function randomBytes(size: number): Uint8Array {
  return randomFillSync(new Uint8Array(size));
}

/** PUTs `bytes` through the Lambda handler under a fresh key and returns the manifest it committed. */
async function upload(bytes: Uint8Array, via: Handler = handler): Promise<Manifest> {
  const key = `lambda/${keyCounter++}.bin`;
  const put = await invoke(
    via,
    await signedEvent({ method: "PUT", target: `/v1/objects/${key}`, headers: { "content-type": "application/octet-stream" }, body: bytes }),
  );
  expect(put.statusCode, put.body.toString()).toBe(201);
  const manifest = await metadata.get<Manifest>(`obj:${key}`);
  if (!manifest) throw new Error(`no manifest for ${key}`);
  return manifest;
}

/** The problem code of a streamed answer, read as the gateway's own error (`problemOf`). */
function problemCode(response: StreamedResponse): string {
  return wireProblemOf({ status: response.statusCode, headers: response.headers, body: response.body }).code;
}

describe("the Lambda handler behind a Function URL (RESPONSE_STREAM), on S3 and DynamoDB", () => {
  it("answers GET /healthz with the Lambda runtime, the AWS backends and the upload limit Lambda allows", async () => {
    const response = await invoke(handler, functionUrlEvent({ method: "GET", target: "/healthz" }));
    expect(response.statusCode).toBe(200);
    expect(response.ended).toBe(true);
    expect(JSON.parse(response.body.toString())).toMatchObject({
      status: "ok",
      runtime: "lambda",
      replay_store: { backend: "dynamodb", atomic: true },
      storage: { backend: "s3" },
      // What `verigate put` checks before sending: the payload cap, not the 100 MiB default.
      max_object_bytes: LAMBDA_MAX_PUT_BYTES,
    });
  });

  it("verifies a signed whoami against the URL the client addressed", async () => {
    const response = await invoke(handler, await signedEvent({ method: "GET", target: "/v1/whoami" }));
    expect(response.statusCode, response.body.toString()).toBe(200);
    expect(JSON.parse(response.body.toString())).toMatchObject({ keyid: admin.keyid, admin: true });
    expect(response.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("rejects a replayed event with 401 replayed_request: the nonce was claimed in DynamoDB", async () => {
    const event = await signedEvent({ method: "GET", target: "/v1/whoami" });
    expect((await invoke(handler, event)).statusCode).toBe(200);
    const replay = await invoke(handler, event);
    expect(replay.statusCode).toBe(401);
    expect(problemCode(replay)).toBe("replayed_request");
  });

  it("stores a PUT in S3 with its manifest in DynamoDB, and streams it back verified on GET", async () => {
    const original = randomBytes(3 * CHUNK + 123);
    const manifest = await upload(original);
    expect(manifest).toMatchObject({ size: original.length, sha256: createHash("sha256").update(original).digest("hex"), chunk_size: CHUNK });
    const stored = await storage.get(manifest.blob);
    expect(Buffer.compare(Buffer.from(await new Response(stored?.body).arrayBuffer()), original)).toBe(0);

    const response = await invoke(handler, await signedEvent({ method: "GET", target: `/v1/objects/${manifest.key}` }));
    expect(response.statusCode).toBe(200);
    expect(response.ended).toBe(true);
    expect(response.headers).toMatchObject({ "content-length": String(original.length), etag: `"${manifest.sha256}"` });
    expect(response.headers["repr-digest"]).toBe(`sha-256=:${createHash("sha256").update(original).digest("base64")}:`);
    expect(Buffer.compare(response.body, original)).toBe(0);
  });

  it("deletes an object with a bodiless DELETE event: 204, then 404", async () => {
    const manifest = await upload(randomBytes(100));
    const deleted = await invoke(handler, await signedEvent({ method: "DELETE", target: `/v1/objects/${manifest.key}` }));
    expect(deleted.statusCode, deleted.body.toString()).toBe(204);
    expect(deleted.ended).toBe(true);
    const gone = await invoke(handler, await signedEvent({ method: "GET", target: `/v1/objects/${manifest.key}` }));
    expect(gone.statusCode).toBe(404);
  });

  it("refuses a PUT declared above the Function URL payload limit with 413 too_large, before storing anything", async () => {
    const key = "lambda/too-large.bin";
    const event = await signedEvent({
      method: "PUT",
      target: `/v1/objects/${key}`,
      headers: { "content-length": String(LAMBDA_MAX_PUT_BYTES + 1) },
      body: randomBytes(16),
    });
    const response = await invoke(handler, event);
    expect(response.statusCode).toBe(413);
    expect(problemCode(response)).toBe("too_large");
    expect(await metadata.get(`obj:${key}`)).toBeNull();
  });

  it("fails the invocation after only verified bytes when a later chunk was tampered with", async () => {
    const original = randomBytes(4 * CHUNK);
    const manifest = await upload(original);
    const tampered = original.slice();
    tampered[2 * CHUNK + 7] = tampered[2 * CHUNK + 7]! ^ 0xff;
    await storage.put(manifest.blob, new Blob([tampered]).stream(), { length: tampered.length });
    const errors = vi.spyOn(console, "error");

    const response = await invoke(handler, await signedEvent({ method: "GET", target: `/v1/objects/${manifest.key}` }));
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-length"]).toBe(String(original.length));
    // The runtime turns the rejection into error trailers, and the client's response ends short.
    expect(response.ended).toBe(false);
    expect(response.error).toMatchObject({ code: "integrity_failure" });
    expect(response.body.length).toBeLessThanOrEqual(2 * CHUNK);
    expect(Buffer.compare(response.body, original.subarray(0, response.body.length))).toBe(0);
    const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ event: "integrity_failure", key: manifest.key, chunk: 2, reason: "digest_mismatch" }));
    errors.mockRestore();
  });
});

describe("a slow client on the Lambda response stream", () => {
  it("holds back reads from storage instead of buffering the object in the function", async () => {
    const size = 32 * CHUNK;
    const original = randomBytes(size);
    const manifest = await upload(original);

    // The same backends the entry builds, with storage reads counted where the gateway pulls them.
    let pulledBytes = 0;
    const quiet: Logger = { log: () => {} };
    const backends = awsBackends(loadConfig(process.env, { runtime: "lambda" }), { clientAddress: () => "203.0.113.7", log: quiet });
    const counting = storageWith(backends.storage, {
      async get(blobKey, range) {
        const blob = await backends.storage.get(blobKey, range);
        if (!blob) return null;
        const reader = blob.body.getReader();
        const body = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              const { done, value } = await reader.read();
              if (done) return controller.close();
              pulledBytes += value.byteLength;
              controller.enqueue(value);
            },
            cancel: (reason) => reader.cancel(reason),
          },
          { highWaterMark: 0 },
        );
        return { size: blob.size, body };
      },
    });
    const app = createApp(() => ({ ...backends, storage: counting }));
    const slowHandler = streamingHandler((request, env) => app.fetch(request, env));

    let furthestAheadBytes = 0;
    const sink = new ResponseSink({
      highWaterMark: 16 * 1024,
      writeDelayMs: 10,
      onAccepted: (acceptedBytes) => (furthestAheadBytes = Math.max(furthestAheadBytes, pulledBytes - acceptedBytes)),
    });
    const response = await invoke(slowHandler, await signedEvent({ method: "GET", target: `/v1/objects/${manifest.key}` }), sink);

    expect(response.ended).toBe(true);
    expect(Buffer.compare(response.body, original)).toBe(0);
    expect(pulledBytes).toBe(size);
    // One chunk being verified, one in the pipe and one in the stream's buffer, with room for one more: never the object.
    expect(furthestAheadBytes).toBeLessThanOrEqual(4 * CHUNK);
  });
});

describe("a Lambda deployment missing its bucket or table", () => {
  it("refuses to serve with 503 misconfigured, and /healthz names the missing settings", async () => {
    const config = loadConfig({ AWS_REGION: LOCAL_AWS_REGION }, { runtime: "lambda" });
    const app = createApp(() => awsBackends(config, { clientAddress: () => "203.0.113.7", log: { log: () => {} } }));
    const misconfigured = streamingHandler((request, env) => app.fetch(request, env));

    const health = await invoke(misconfigured, functionUrlEvent({ method: "GET", target: "/healthz" }));
    expect(health.statusCode).toBe(503);
    expect(JSON.parse(health.body.toString())).toMatchObject({ status: "misconfigured", problems: ["missing_s3_bucket", "missing_dynamodb_table"] });
    const whoami = await invoke(misconfigured, await signedEvent({ method: "GET", target: "/v1/whoami" }));
    expect(whoami.statusCode).toBe(503);
    expect(problemCode(whoami)).toBe("misconfigured");
  });
});
