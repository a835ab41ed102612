import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { signRequest, type SigningKey } from "../../../shared/signature/index.ts";
import { newEd25519Key } from "../../support/keys.ts";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const WRANGLER_CONFIG = join(REPO_ROOT, "wrangler.toml");

/** How long a log line may trail the response it belongs to: workerd's stdout reaches Node through a pipe. */
const LOG_WAIT_MS = 5_000;
const LOG_POLL_MS = 20;

type R2Bucket = Awaited<ReturnType<Miniflare["getR2Bucket"]>>;
type KVNamespace = Awaited<ReturnType<Miniflare["getKVNamespace"]>>;

/** One structured line the gateway wrote (`shared/log.ts`): `level`, `event`, `time` and the event's fields. */
export type LogEvent = Record<string, unknown> & { level: string; event: string };

export interface Signer {
  keyid: string;
  key: SigningKey;
}

export interface SignedInit {
  body?: Uint8Array<ArrayBuffer>;
  /** Signs the Content-Digest of these bytes while `body` is what is sent: a body that differs from its digest. */
  signedBody?: Uint8Array;
  headers?: Record<string, string>;
  as?: Signer;
}

/** A response read byte by byte off the socket, so a body that ends short of its Content-Length is observable. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** False when the connection ended before the framing said the body was over. */
  complete: boolean;
}

export interface RawRequest {
  method: string;
  /** The request target exactly as it goes on the wire: neither normalised nor re-encoded. */
  target: string;
  headers: Record<string, string>;
  /** Written right after the head; `Content-Length` is whatever `headers` says, not its length. */
  body?: Uint8Array;
}

/** One request on its own TCP connection, written by hand so framing can be wrong on purpose. */
export interface RawConnection {
  write(bytes: Uint8Array): void;
  /** Sends FIN: the server sees the body end, and can still answer. */
  halfClose(): void;
  destroy(): void;
  /** Settles once the response is whole by its framing; null when the connection closed before a response head. */
  response: Promise<WireResponse | null>;
}

export interface Gateway {
  origin: string;
  admin: Signer & { publicKey: string };
  /** The worker's own R2 bucket and KV namespace, for tampering behind the gateway's back. */
  bucket: R2Bucket;
  kv: KVNamespace;
  /** Every structured line the gateway logged so far. */
  logs(): LogEvent[];
  /**
   * Waits for an event that `matches` among the lines logged after the first `after` (all by default), so a
   * line trailing its response is not missed and an earlier request's line is not taken for it.
   */
  waitForEvent(event: string, matches: (line: LogEvent) => boolean, after?: number): Promise<LogEvent>;
  /** Signs with the admin key (or `init.as`) over the URL exactly as fetch sends it, then fetches. */
  signedFetch(method: string, path: string, init?: SignedInit): Promise<Response>;
  /** Signature headers (and Content-Digest when given a body) for a raw request target sent as is. */
  signedHeaders(method: string, target: string, init?: Omit<SignedInit, "body">): Promise<Record<string, string>>;
  /**
   * A signed GET through `node:http`, keeping every byte that arrived even when the body ends short; null when
   * the connection closed before a status line arrived.
   */
  wireGet(path: string, headers?: Record<string, string>): Promise<WireResponse | null>;
  /** Opens a fresh TCP connection and writes the request head (and `body`, if given) on it. */
  connect(request: RawRequest): RawConnection;
  stop(): Promise<void>;
}

/** `wrangler deploy --dry-run` bundles exactly what would be deployed, offline, in about a second. */
async function bundleWorker(outdir: string): Promise<string> {
  await run(join(REPO_ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir, "--config", WRANGLER_CONFIG], {
    cwd: REPO_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  return join(outdir, "worker.js");
}

/**
 * The worker's options as wrangler derives them from wrangler.toml (bindings, compatibility, migrations), so the
 * harness cannot drift from the deployed configuration. Vars come from `[vars]` alone: a developer's `.dev.vars`
 * must not change what the tests see.
 */
function workerOptionsFromConfig(vars: Record<string, string>) {
  const config = unstable_readConfig({ config: WRANGLER_CONFIG }, { hideWarnings: true });
  // Module rules locate non-JS imports of unbundled sources; the bundle has none, and Miniflare 5 refuses them.
  const { modulesRules: _unused, ...workerOptions } = unstable_getMiniflareWorkerOptions(config).workerOptions;
  const configVars = Object.fromEntries(Object.entries(config.vars).map(([name, value]) => [name, String(value)]));
  return { ...workerOptions, bindings: { ...configVars, ...vars } };
}

/**
 * The real bundled worker in workerd (Miniflare), listening on a loopback port, with fresh in-memory R2, KV and
 * Durable Object storage and a fresh admin key. `vars` are added to wrangler.toml's `[vars]`.
 */
export async function startGateway(vars: Record<string, string> = {}): Promise<Gateway> {
  const dir = await mkdtemp(join(tmpdir(), "verigate-gateway-"));
  const adminKey = await newEd25519Key();
  const admin = { keyid: "wire-admin", key: { alg: "ed25519" as const, privateKey: adminKey.privateKey }, publicKey: adminKey.publicKey };
  const logged: LogEvent[] = [];
  let mf: Miniflare | undefined;
  let url: URL;
  try {
    const scriptPath = await bundleWorker(join(dir, "bundle"));
    mf = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        modules: true,
        scriptPath,
        // Module names are relative to this; the default (cwd) would put the bundle outside it.
        modulesRoot: join(dir, "bundle"),
        ...workerOptionsFromConfig({ ADMIN_KEYS: `${admin.keyid}=${admin.publicKey}`, ...vars }),
        handleStructuredLogs: ({ message }) => {
          const line = parseLogLine(message);
          if (line) logged.push(line);
        },
      }),
    );
    url = await mf.ready;
  } catch (error) {
    await mf?.dispose();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const runtime = mf;
  const origin = url.origin;
  const bucket = await runtime.getR2Bucket("OBJECTS");
  const kv = await runtime.getKVNamespace("META");

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
    bucket,
    kv,
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
      const href = new URL(path, origin).href;
      const signedBody = init.signedBody ?? init.body;
      const headers = await signedHeaders(method, href.slice(origin.length), { ...init, ...(signedBody ? { signedBody } : {}) });
      return fetch(href, { method, headers, ...(init.body ? { body: init.body } : {}) });
    },
    signedHeaders,
    async wireGet(path, headers = {}) {
      const signed = await signedHeaders("GET", path, { headers });
      return wireGet(url, path, signed);
    },
    connect: (request) => rawConnection(url, request),
    async stop() {
      await runtime.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function parseLogLine(message: string): LogEvent | null {
  try {
    const value: unknown = JSON.parse(message);
    if (typeof value === "object" && value !== null && "event" in value && "level" in value) return value as LogEvent;
  } catch {
    // workerd's own lines and anything else that is not the gateway's JSON
  }
  return null;
}

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
      const parsed = parseResponse(received, ended, request.method === "HEAD");
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
    // A reset or our own destroy(): whatever arrived is judged by `close`.
    socket.on("error", () => {});
  });
  return {
    write: (bytes) => void socket.write(bytes),
    halfClose: () => void socket.end(),
    destroy: () => void socket.destroy(),
    response,
  };
}

/**
 * The response in `bytes` once its body is whole by its own framing (Content-Length or chunked), or at the end of
 * the connection (`ended`), when a short body is reported as incomplete; null while more is needed.
 */
function parseResponse(bytes: Buffer, ended: boolean, toHead: boolean): WireResponse | null {
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
  // RFC 9110 section 6.3: these never carry a body, whatever their Content-Length says.
  if (toHead || status === 204 || status === 304) return { status, headers, body: rest.subarray(0, 0), complete: true };
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const decoded = dechunk(rest);
    if (decoded) return { status, headers, body: decoded, complete: true };
    return ended ? { status, headers, body: rest, complete: false } : null;
  }
  const length = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
  if (length !== undefined && rest.length >= length) return { status, headers, body: rest.subarray(0, length), complete: true };
  return ended ? { status, headers, body: rest, complete: length === undefined } : null;
}

/** The body of a whole chunked encoding, or null while its last chunk has not arrived. */
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
