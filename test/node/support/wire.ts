import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { signRequest, type SigningKey } from "../../../shared/signature/index.ts";
import type { LogLine } from "../../support/recording-logger.ts";
import { checkResponse, checkWireResponse } from "./openapi.ts";

/**
 * The client side every gateway harness shares (the Worker in workerd, the Node server, the Lambda handler), so a suite
 * signs, sends and judges framing alike on each, and what a suite may use of any is one type.
 */

/**
 * How long a log line may trail the response it belongs to: workerd's and the Lambda function's stdout reach Node
 * through a pipe (the Node server logs in-process, so its lines are there once the response is).
 */
const LOG_WAIT_MS = 5_000;
const LOG_POLL_MS = 20;

/** One structured line the gateway wrote (`shared/log.ts`): `level`, `event`, `time` and the event's fields. */
export type LogEvent = LogLine;

/** One line a runtime printed, as a gateway log line; null for the runtime's own lines and anything else. */
export function parseLogLine(message: string): LogEvent | null {
  try {
    const value: unknown = JSON.parse(message);
    if (typeof value === "object" && value !== null && "event" in value && "level" in value) return value as LogEvent;
  } catch {
    // not JSON: the runtime's own output
  }
  return null;
}

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
  /** Epoch seconds the signature claims to be made at; now by default. */
  created?: number;
  /** Replaces the covered components (a Content-Digest is still sent with a body); for tests of the profile. */
  components?: string[];
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
  /** The loopback address the connection comes from (any of 127.0.0.0/8), so a server sees distinct clients. */
  localAddress?: string;
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

/** How a suite talks to a gateway on loopback and reads what it logged. */
export interface WireClient {
  origin: string;
  admin: Signer & { publicKey: string };
  /** Every structured line the gateway logged so far. */
  logs(): LogEvent[];
  /**
   * Waits for an event that `matches` among the lines logged after the first `after` (all by default), so a
   * line trailing its response is not missed and an earlier request's line is not taken for it.
   */
  waitForEvent(event: string, matches: (line: LogEvent) => boolean, after?: number): Promise<LogEvent>;
  /**
   * Signs with the admin key (or `init.as`) over the URL exactly as fetch sends it, then fetches. The answer is
   * checked against the OpenAPI document first (`./openapi.ts`), so every suite keeps the document honest.
   */
  signedFetch(method: string, path: string, init?: SignedInit): Promise<Response>;
  /** Signature headers (and Content-Digest when given a body) for a raw request target sent as is. */
  signedHeaders(method: string, target: string, init?: Omit<SignedInit, "body">): Promise<Record<string, string>>;
  /**
   * A signed GET through `node:http`, keeping every byte that arrived even when the body ends short; null when
   * the connection closed before a status line arrived. Checked against the OpenAPI document like `signedFetch`.
   */
  wireGet(path: string, headers?: Record<string, string>): Promise<WireResponse | null>;
  /** Opens a fresh TCP connection and writes the request head (and `body`, if given) on it. */
  connect(request: RawRequest): RawConnection;
}

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
  /** Writes a record's JSON text behind the gateway's back (a metadata writer without the keys). */
  put(key: string, value: string): Promise<unknown>;
  list(options: { prefix: string }): Promise<{ keys: { name: string }[] }>;
}

/**
 * What an HTTP suite may use, so it runs on every harness: the Workers one (its R2 bucket and KV namespace have
 * these methods) and the Node and Lambda ones (S3 and DynamoDB behind the same methods, `aws-stores.ts`).
 */
export interface GatewayHarness extends WireClient {
  /** The gateway's own object storage and metadata store, for tampering behind its back. */
  bucket: BlobAccess;
  kv: ManifestAccess;
  stop(): Promise<void>;
}

/** The client for a gateway listening at `origin` that trusts `admin` and whose log lines so far `logged` gives. */
export function wireClient(origin: string, admin: WireClient["admin"], logged: () => readonly LogEvent[]): WireClient {
  const url = new URL(origin);
  const signedHeaders = async (method: string, target: string, init: Omit<SignedInit, "body"> = {}) => {
    const signer = init.as ?? admin;
    const { headers } = await signRequest({
      method,
      url: origin + target,
      headers: init.headers ?? {},
      ...(init.signedBody ? { body: init.signedBody } : {}),
      ...(init.created === undefined ? {} : { created: init.created }),
      ...(init.components ? { components: init.components } : {}),
      key: signer.key,
      keyid: signer.keyid,
    });
    return { ...init.headers, ...headers };
  };
  return {
    origin,
    admin,
    logs: () => [...logged()],
    async waitForEvent(event, matches, after = 0) {
      const deadline = Date.now() + LOG_WAIT_MS;
      for (;;) {
        const lines = logged();
        const found = lines.slice(after).find((line) => line.event === event && matches(line));
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no ${event} event logged within ${LOG_WAIT_MS} ms; logged: ${JSON.stringify(lines.map((line) => line.event))}`);
        await new Promise((resolve) => setTimeout(resolve, LOG_POLL_MS));
      }
    },
    async signedFetch(method, path, init = {}) {
      const href = new URL(path, origin).href;
      const signedBody = init.signedBody ?? init.body;
      const headers = await signedHeaders(method, href.slice(origin.length), { ...init, ...(signedBody ? { signedBody } : {}) });
      const response = await fetch(href, { method, headers, ...(init.body ? { body: init.body } : {}) });
      await checkResponse(method, href.slice(origin.length), response);
      return response;
    },
    signedHeaders,
    async wireGet(path, headers = {}) {
      const response = await wireGet(url, path, await signedHeaders("GET", path, { headers }));
      if (response) await checkWireResponse("GET", path, response);
      return response;
    },
    connect: (request) => rawConnection(url, request),
  };
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
  const socket = connect({ host: url.hostname, port: Number(url.port), ...(request.localAddress ? { localAddress: request.localAddress } : {}) });
  const head = [
    `${request.method} ${request.target} HTTP/1.1`,
    `Host: ${url.host}`,
    ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
  ];
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
