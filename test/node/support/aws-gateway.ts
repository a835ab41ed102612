import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { serveNode } from "../../../functions/node-server.ts";
import type { Logger } from "../../../shared/log.ts";
import { DynamoMetadataStore } from "../../../shared/metadata/dynamodb.ts";
import { signRequest } from "../../../shared/signature/index.ts";
import { createS3Client } from "../../../shared/storage/s3-client.ts";
import { S3ObjectStorage } from "../../../shared/storage/s3.ts";
import { newEd25519Key } from "../../support/keys.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, startLocalAws } from "../../../scripts/local-aws.ts";
import type { Gateway, LogEvent, RawConnection, RawRequest, SignedInit, WireResponse } from "./gateway-server.ts";

/** The part of the Workers harness's R2 bucket a suite uses to list, read and replace blobs behind the gateway's back. */
export interface BlobAccess {
  get(blobKey: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  put(blobKey: string, bytes: Uint8Array<ArrayBuffer>): Promise<unknown>;
  list(options: { prefix: string }): Promise<{ objects: { key: string }[] }>;
}

/** The part of the Workers harness's KV namespace a suite uses to read metadata records (docs/STORAGE.md). */
export interface ManifestAccess {
  /** The record's JSON text. */
  get(key: string): Promise<string | null>;
  get(key: string, type: "json"): Promise<unknown>;
  list(options: { prefix: string }): Promise<{ keys: { name: string }[] }>;
}

/**
 * What an HTTP contract suite may use, so it runs on both harnesses: the Workers `Gateway` of
 * gateway-server.ts fits it (its R2 bucket and KV namespace have these methods), and so does `startAwsGateway`'s.
 */
export type GatewayHarness = Omit<Gateway, "bucket" | "kv"> & { bucket: BlobAccess; kv: ManifestAccess };

/** How long a test waits for a log line; the AWS gateway logs in-process, so a line is there once its response is. */
const LOG_WAIT_MS = 5_000;
const LOG_POLL_MS = 20;
const TABLE = "verigate-harness";

/**
 * The gateway on `@hono/node-server` with the AWS backends (`functions/node-server.ts`) against fresh s3rver
 * and dynalite servers, on a free loopback port, with a fresh admin key and the DynamoDB replay store.
 * `vars` are PROTOCOL section 7 variables added to (or replacing) the harness's own.
 */
export async function startAwsGateway(vars: Record<string, string> = {}): Promise<GatewayHarness> {
  const s3Directory = await mkdtemp(join(tmpdir(), "verigate-aws-gateway-"));
  const local = await startLocalAws({ bucket: "verigate-harness", table: TABLE, s3Directory });
  const { vars: localVars } = local;
  // The harness's own clients, separate from the gateway's: what they write happens behind its back.
  const s3Client = createS3Client({
    endpoint: localVars.S3_ENDPOINT,
    region: localVars.S3_REGION,
    bucket: localVars.S3_BUCKET,
    accessKeyId: localVars.S3_ACCESS_KEY_ID,
    secretAccessKey: localVars.S3_SECRET_ACCESS_KEY,
  });
  const dynamodb = new DynamoDBClient({ endpoint: localVars.DYNAMODB_ENDPOINT, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
  const storage = new S3ObjectStorage(s3Client, localVars.S3_BUCKET);
  const metadata = new DynamoMetadataStore(dynamodb, TABLE);
  const stopServers = async () => {
    dynamodb.destroy();
    s3Client.destroy();
    await local.stop();
    await rm(s3Directory, { recursive: true, force: true });
  };
  const logged: LogEvent[] = [];
  const log: Logger = {
    // The same JSON shape `consoleLogger` prints, so assertions match what Workers logs (undefined fields dropped).
    log: (level, event, fields = {}) => void logged.push(JSON.parse(JSON.stringify({ level, event, time: new Date().toISOString(), ...fields }))),
  };
  const adminKey = await newEd25519Key();
  const admin = { keyid: "wire-admin", key: { alg: "ed25519" as const, privateKey: adminKey.privateKey }, publicKey: adminKey.publicKey };
  let server: Awaited<ReturnType<typeof serveNode>>;
  try {
    server = await serveNode({ ADMIN_KEYS: `${admin.keyid}=${admin.publicKey}`, REPLAY_STORE: "dynamodb", ...localVars, ...vars }, { port: 0, log });
  } catch (error) {
    await stopServers();
    throw error;
  }
  const { origin } = server;
  const url = new URL(origin);

  const signedHeaders = async (method: string, target: string, init: Omit<SignedInit, "body"> = {}) => {
    const signer = init.as ?? admin;
    const { headers } = await signRequest({
      method,
      url: origin + target,
      headers: init.headers ?? {},
      ...(init.signedBody ? { body: init.signedBody } : {}),
      key: signer.key,
      keyid: signer.keyid,
    });
    return { ...init.headers, ...headers };
  };

  return {
    origin,
    admin,
    bucket: {
      async get(blobKey) {
        const stored = await storage.get(blobKey);
        return stored && new Response(stored.body);
      },
      put: (blobKey, bytes) => storage.put(blobKey, new Blob([bytes]).stream(), { length: bytes.byteLength }),
      list: async ({ prefix }) => ({ objects: (await listBlobs(s3Client, localVars.S3_BUCKET, prefix)).map((key) => ({ key })) }),
    },
    kv: {
      get: (async (key: string, type?: "json") => {
        const value = await metadata.get(key);
        return type === "json" || value === null ? value : JSON.stringify(value);
      }) as ManifestAccess["get"],
      list: async ({ prefix }) => ({ keys: (await listRecords(metadata, prefix)).map((name) => ({ name })) }),
    },
    logs: () => [...logged],
    async waitForEvent(event, matches, after = 0) {
      const deadline = Date.now() + LOG_WAIT_MS;
      for (;;) {
        const found = logged.slice(after).find((line) => line.event === event && matches(line));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${event} event logged within ${LOG_WAIT_MS} ms; logged: ${JSON.stringify(logged.map((line) => line.event))}`);
        await new Promise((resolve) => setTimeout(resolve, LOG_POLL_MS));
      }
    },
    async signedFetch(method, path, init = {}) {
      const target = new URL(path, origin).href;
      const signedBody = init.signedBody ?? init.body;
      const headers = await signedHeaders(method, target.slice(origin.length), { ...init, ...(signedBody ? { signedBody } : {}) });
      return fetch(target, { method, headers, ...(init.body ? { body: init.body } : {}) });
    },
    signedHeaders,
    async wireGet(path, headers = {}) {
      return wireGet(url, path, await signedHeaders("GET", path, { headers }));
    },
    connect: (request) => rawConnection(url, request),
    async stop() {
      await server.close();
      await stopServers();
    },
  };
}

/** Every blob key under `prefix`, as R2's `list` gives them. */
async function listBlobs(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** Every metadata key under `prefix`, across pages. */
async function listRecords(metadata: DynamoMetadataStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await metadata.list(prefix, cursor ? { cursor } : {});
    keys.push(...page.keys);
    cursor = page.cursor;
  } while (cursor);
  return keys;
}

// The wire helpers below repeat gateway-server.ts's private ones, so both harnesses judge framing alike;
// they belong in one shared support module once that file settles.

function wireGet(url: URL, path: string, headers: Record<string, string>): Promise<WireResponse | null> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path, method: "GET", headers, agent: false }, (response) => {
      const parts: Buffer[] = [];
      response.on("data", (part: Buffer) => parts.push(part));
      // An early close errors the response ("aborted"); what arrived before it is the point of the exercise.
      response.on("error", () => {});
      response.on("close", () =>
        resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response.headers), body: Buffer.concat(parts), complete: response.complete }),
      );
    });
    // Node's name for a connection closed before any response head: the client saw no status at all.
    request.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" && error.message === "socket hang up" ? resolve(null) : reject(error)));
    request.end();
  });
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  return flat;
}

function rawConnection(url: URL, request: RawRequest): RawConnection {
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  const head = [`${request.method} ${request.target} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`)];
  socket.write(`${head.join("\r\n")}\r\n\r\n`);
  if (request.body) socket.write(request.body);
  const response = new Promise<WireResponse | null>((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (ended: boolean) => {
      if (settled) return;
      const parsed = parseResponse(received, ended);
      if (parsed) {
        settled = true;
        socket.destroy();
        resolve(parsed);
      } else if (ended && received.length === 0) {
        settled = true;
        resolve(null);
      } else if (ended) {
        settled = true;
        reject(new Error(`connection closed inside a response head: ${JSON.stringify(received.toString("latin1").slice(0, 200))}`));
      }
    };
    socket.on("data", (data: Buffer) => {
      received = Buffer.concat([received, data]);
      settle(false);
    });
    socket.on("end", () => settle(true));
    socket.on("close", () => settle(true));
    socket.on("error", () => {});
  });
  return {
    write: (bytes) => void socket.write(bytes),
    halfClose: () => void socket.end(),
    destroy: () => void socket.destroy(),
    response,
  };
}

function parseResponse(bytes: Buffer, ended: boolean): WireResponse | null {
  const headEnd = bytes.indexOf("\r\n\r\n");
  if (headEnd === -1) return null;
  const [statusLine = "", ...fieldLines] = bytes.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers: Record<string, string> = {};
  for (const line of fieldLines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(headEnd + 4);
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const decoded = dechunk(rest);
    if (decoded) return { status, headers, body: decoded, complete: true };
    return ended ? { status, headers, body: rest, complete: false } : null;
  }
  const length = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
  if (length !== undefined && rest.length >= length) return { status, headers, body: rest.subarray(0, length), complete: true };
  if (length === undefined && status === 304) return { status, headers, body: rest, complete: true };
  return ended ? { status, headers, body: rest, complete: length === undefined } : null;
}

function dechunk(bytes: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", offset);
    if (lineEnd === -1) return null;
    const size = parseInt(bytes.subarray(offset, lineEnd).toString("latin1"), 16);
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (bytes.length < start + size + 2) return null;
    parts.push(bytes.subarray(start, start + size));
    offset = start + size + 2;
  }
}
