/**
 * A loopback stand-in for a Lambda Function URL (`InvokeMode: RESPONSE_STREAM`) in front of the shipped handler,
 * run as its own process by the tests (`test/node/support/lambda-gateway.ts`) and the benchmark
 * (`bench/harness/child-aws-lambda.ts`): `node scripts/lambda-function-url.ts <bundle.mjs> <port>`, with the function's
 * environment as this process's. It sends `"listening"` over IPC once it listens on 127.0.0.1:<port>; the handler's log
 * lines go to stdout and stderr as they would to CloudWatch.
 *
 * What it does as the Function URL does: buffers the whole request before invoking (a cut upload never reaches
 * the function, and a body sent without Content-Length arrives with a known length); refuses a request whose event
 * would exceed Lambda's 6 MB payload quota with its own 413, never invoking; hands over the event of payload format
 * 2.0 (`functionUrlEvent`); invokes through the runtime's `streamifyResponse` contract and streams the prelude's
 * status, headers and cookies and then the body back; cuts the response when an invocation fails after its
 * first write; runs an invocation to its end when the client has gone; and gives each concurrent request an
 * execution environment of its own (a fresh instance of the bundle), as Lambda never runs two invocations in one.
 *
 * Not known offline, so passed through as the handler wrote it: whether the Function URL forwards a streamed
 * response's `Content-Length` or re-frames it as chunked (deploy/LAMBDA.md, "Behaviour differences", 5). What
 * AWS's own HTTP front answers to malformed framing or oversize headers is not emulated: Node's parser answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { enableCompileCache } from "node:module";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import type { LambdaFunctionURLEvent, StreamifyHandler } from "aws-lambda";
import { functionUrlEvent, installLambdaRuntime, lambdaContext } from "./lambda-runtime.ts";

type Handler = StreamifyHandler<LambdaFunctionURLEvent, void>;

/**
 * Lambda's quota on a synchronous invocation's request payload (the event as JSON), stated here from AWS's quotas
 * page rather than imported from the gateway, so a gateway cap that drifts above it fails the tests.
 */
const FUNCTION_URL_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** What AWS answers above it, before the function runs: its own JSON, no problem+json, no X-Request-Id. */
const PAYLOAD_TOO_LARGE_BODY = JSON.stringify({ Message: `Request must be smaller than ${FUNCTION_URL_PAYLOAD_BYTES} bytes for the InvokeFunction operation` });
/** What a Function URL answers when the function fails before its first write. */
const FUNCTION_ERROR_BODY = JSON.stringify({ Message: "Internal Server Error" });
/** The runtime's delimiter between the JSON prelude and the body (see `installLambdaRuntime`). */
const PRELUDE_DELIMITER = Buffer.alloc(8);
/** Connection-level headers a front consumes: the event's body is a buffered whole, not a framed stream. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

const [bundle = "", port = ""] = process.argv.slice(2);
if (!bundle || !port) throw new Error("usage: node scripts/lambda-function-url.ts <lambda-bundle.mjs> <port>");
const bundleUrl = pathToFileURL(bundle).href;
installLambdaRuntime();
// Every cold start compiles the same 1.5 MB bundle; V8's cache took a cold start from 58 to 42 ms here, which a
// burst of a hundred concurrent requests (a hundred execution environments) feels.
enableCompileCache();

/** Execution environments not serving an invocation; a request takes one, or a cold start makes another. */
const idle: Handler[] = [];
let environments = 0;

async function environment(): Promise<Handler> {
  const warm = idle.pop();
  if (warm) return warm;
  // A query makes a new module instance: its own backends, SDK clients and in-memory rate limits.
  const module = (await import(`${bundleUrl}?environment=${environments++}`)) as { handler: Handler };
  return module.handler;
}

const server = createServer((request, response) => void serve(request, response));

async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > FUNCTION_URL_PAYLOAD_BYTES) return refuseTooLarge(response);
  const body = await wholeBody(request);
  // The client went away before its request was whole: there is nothing to invoke.
  if (body === null) return void request.socket.destroy();
  if (body.byteLength > FUNCTION_URL_PAYLOAD_BYTES) return refuseTooLarge(response);
  const event = functionUrlEvent(
    { method: request.method ?? "GET", target: request.url ?? "/", headers: eventHeaders(request), ...(body.byteLength > 0 ? { body } : {}) },
    // A Function URL is addressed by its own domain, so the Host the client sent is the domain it addressed.
    { domainName: request.headers.host ?? "", sourceIp: peerAddress(request) },
  );
  if (Buffer.byteLength(JSON.stringify(event)) > FUNCTION_URL_PAYLOAD_BYTES) return refuseTooLarge(response);
  const handler = await environment();
  const stream = new FunctionUrlStream(response);
  try {
    await handler(event, stream as unknown as awslambda.HttpResponseStream, lambdaContext());
    await new Promise<void>((resolve) => (stream.writableFinished ? resolve() : stream.once("finish", () => resolve())));
  } catch {
    // The runtime ends a failed stream with error trailers, which the Function URL turns into a cut response.
    if (response.headersSent) response.destroy();
    else response.writeHead(502, { "content-type": "application/json" }).end(FUNCTION_ERROR_BODY);
  } finally {
    idle.push(handler);
  }
}

function refuseTooLarge(response: ServerResponse): void {
  response.writeHead(413, { "content-type": "application/json", connection: "close" }).end(PAYLOAD_TOO_LARGE_BODY);
}

/** The request body once it is whole, or null when the connection ended first. */
function wholeBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => resolve(Buffer.concat(parts)));
    request.on("close", () => resolve(request.complete ? Buffer.concat(parts) : null));
    request.on("error", () => resolve(null));
  });
}

/** Every header as sent, names lower-cased, repeats joined (cookies as one list); hop-by-hop headers stay with the front. */
function eventHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] as string).toLowerCase();
    const value = request.rawHeaders[i + 1] as string;
    if (HOP_BY_HOP.has(name)) continue;
    headers[name] = name in headers ? `${headers[name]}${name === "cookie" ? "; " : ","}${value}` : value;
  }
  return headers;
}

/** The connecting address as the Function URL reports it: IPv4 without the IPv6 mapping. */
function peerAddress(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}

/**
 * The runtime's response stream: the first bytes are the JSON prelude up to `PRELUDE_DELIMITER`, which becomes
 * the status line and headers; the rest is the body, written with the client's backpressure. Once the client is
 * gone every write is accepted and dropped, so the function streams on to its end as on Lambda.
 */
class FunctionUrlStream extends Writable {
  readonly #response: ServerResponse;
  #head: Buffer | null = Buffer.alloc(0);

  constructor(response: ServerResponse) {
    super({ highWaterMark: 16 * 1024 });
    this.#response = response;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let body = chunk;
    if (this.#head !== null) {
      const head: Buffer = Buffer.concat([this.#head, chunk]);
      const delimiter = head.indexOf(PRELUDE_DELIMITER);
      if (delimiter === -1) {
        this.#head = head;
        return callback();
      }
      this.#head = null;
      const prelude = JSON.parse(head.subarray(0, delimiter).toString("utf8")) as { statusCode: number; headers?: Record<string, string>; cookies?: string[] };
      const cookies = prelude.cookies ?? [];
      this.#response.writeHead(prelude.statusCode, { ...prelude.headers, ...(cookies.length > 0 ? { "set-cookie": cookies } : {}) });
      body = head.subarray(delimiter + PRELUDE_DELIMITER.length);
    }
    if (this.#response.destroyed || body.byteLength === 0) return callback();
    if (this.#response.write(body)) return callback();
    const settle = () => {
      this.#response.off("drain", settle);
      this.#response.off("close", settle);
      callback();
    };
    this.#response.once("drain", settle);
    this.#response.once("close", settle);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#head !== null) return callback(new Error("the handler ended its stream without a prelude"));
    if (this.#response.destroyed) return callback();
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      callback();
    };
    // A client that leaves before the last bytes are flushed never sees `finish`; `close` comes either way.
    this.#response.once("close", settle);
    this.#response.end(settle);
  }
}

server.listen(Number(port), "127.0.0.1", () => process.send?.("listening"));
