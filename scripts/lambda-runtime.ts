import { Writable } from "node:stream";
import type { Context as LambdaContext, LambdaFunctionURLEvent, StreamifyHandler } from "aws-lambda";
import { signRequest } from "../shared/signature/index.ts";

/** The runtime's delimiter between the JSON prelude and the body of an HTTP integration response. */
const PRELUDE_DELIMITER = Buffer.alloc(8);

const FUNCTION_URL_DOMAIN = "abcdefghij0123456789klmnop.lambda-url.eu-west-1.on.aws";

/**
 * `globalThis.awslambda` as the Lambda Node runtime defines it before loading the handler module:
 * `streamifyResponse` marks the handler, and `HttpResponseStream.from` makes the first write on the stream
 * send the JSON prelude (status, headers, cookies) and 8 NUL bytes before it, as the runtime does.
 */
export function installLambdaRuntime(): void {
  const runtime = {
    streamifyResponse: <T>(handler: T) => handler,
    HttpResponseStream: {
      from(stream: Writable, prelude: Record<string, unknown>): Writable {
        const write = stream.write.bind(stream) as (chunk: unknown) => boolean;
        let first = true;
        stream.write = ((chunk: unknown) => {
          if (first) {
            first = false;
            write(JSON.stringify(prelude));
            write(PRELUDE_DELIMITER);
          }
          return write(chunk);
        }) as Writable["write"];
        return stream;
      },
    },
  };
  Object.assign(globalThis, { awslambda: runtime });
}

export interface SlowWriter {
  /** Milliseconds each write takes to be accepted; zero accepts at once. */
  writeDelayMs?: number;
  /** The stream's buffer before `write()` returns false, like the runtime's (16 KiB by default). */
  highWaterMark?: number;
  /** Called with the bytes accepted so far, each time a write is accepted. */
  onAccepted?: (acceptedBytes: number) => void;
}

/** A response stream standing in for the runtime's; `accepted()` is every byte the client side took. */
export class ResponseSink extends Writable {
  readonly #parts: Buffer[] = [];
  readonly #options: SlowWriter;
  #acceptedBytes = 0;

  constructor(options: SlowWriter = {}) {
    super({ highWaterMark: options.highWaterMark ?? 16 * 1024 });
    this.#options = options;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const accept = () => {
      this.#parts.push(Buffer.from(chunk));
      this.#acceptedBytes += chunk.byteLength;
      this.#options.onAccepted?.(this.#acceptedBytes);
      callback();
    };
    if (this.#options.writeDelayMs) setTimeout(accept, this.#options.writeDelayMs);
    else accept();
  }

  accepted(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** What the Function URL makes of a streamed invocation. */
export interface StreamedResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
  /** The handler resolved and ended its stream: the client gets the whole body. */
  ended: boolean;
  /** Why the invocation failed, when it did: the runtime then ends the stream with error trailers instead. */
  error: unknown;
}

/** Runs one invocation the way the runtime does and decodes what the handler wrote. */
export async function invoke(
  handler: StreamifyHandler<LambdaFunctionURLEvent, void>,
  event: LambdaFunctionURLEvent,
  sink = new ResponseSink(),
): Promise<StreamedResponse> {
  let error: unknown;
  try {
    await handler(event, sink as unknown as awslambda.HttpResponseStream, lambdaContext());
  } catch (thrown) {
    error = thrown ?? new Error("rejected without a reason");
  }
  const bytes = sink.accepted();
  const delimiter = bytes.indexOf(PRELUDE_DELIMITER);
  if (delimiter === -1) throw new Error(`no prelude was written; the handler ${error ? `failed: ${String(error)}` : "resolved"}`);
  const prelude = JSON.parse(bytes.subarray(0, delimiter).toString("utf8")) as Omit<StreamedResponse, "body" | "ended" | "error">;
  return { ...prelude, body: bytes.subarray(delimiter + PRELUDE_DELIMITER.length), ended: error === undefined && sink.writableFinished, error };
}

export interface EventInit {
  method: string;
  /** Path and query exactly as the client sent them. */
  target: string;
  /** By name, lower-cased or not; a name sent several times has its values joined with commas, as the Function URL does. */
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** Who the Function URL says sent an event: the domain the client addressed and the address it connected from. */
export interface EventSource {
  domainName: string;
  sourceIp: string;
}

const DEFAULT_SOURCE: EventSource = { domainName: FUNCTION_URL_DOMAIN, sourceIp: "203.0.113.7" };

/**
 * A Function URL event (payload format 2.0) as Lambda delivers it: header names lower-cased, a `Cookie` header split
 * into `cookies`, the headers a Function URL adds, and a body base64-encoded (which the payload cap assumes).
 */
export function functionUrlEvent(init: EventInit, source: EventSource = DEFAULT_SOURCE): LambdaFunctionURLEvent {
  const queryAt = init.target.indexOf("?");
  const rawPath = queryAt === -1 ? init.target : init.target.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? "" : init.target.slice(queryAt + 1);
  const headers: Record<string, string> = {
    host: source.domainName,
    "x-amzn-tls-version": "TLSv1.3",
    "x-forwarded-proto": "https",
    "x-forwarded-port": "443",
    "x-forwarded-for": source.sourceIp,
    "x-amzn-trace-id": "Root=1-5e7b5ab5-2a6b5f4c8e9d0a1b2c3d4e5f",
    "user-agent": "verigate-test",
  };
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  const { cookie, ...withoutCookie } = headers;
  const cookies = cookie === undefined ? [] : cookie.split(/;\s*/).filter((part) => part !== "");
  const domainPrefix = source.domainName.split(".")[0] as string;
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers: withoutCookie,
    ...(rawQueryString ? { queryStringParameters: Object.fromEntries(new URLSearchParams(rawQueryString)) } : {}),
    requestContext: {
      accountId: "anonymous",
      apiId: domainPrefix,
      domainName: source.domainName,
      domainPrefix,
      http: { method: init.method, path: rawPath, protocol: "HTTP/1.1", sourceIp: source.sourceIp, userAgent: headers["user-agent"] ?? "" },
      requestId: crypto.randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(init.body ? { body: Buffer.from(init.body).toString("base64"), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}

/** A Function URL event signed with an ed25519 key over the URL the client addressed, Content-Digest included for a body. */
export async function signedFunctionUrlEvent(init: EventInit, signer: { keyid: string; privateKey: CryptoKey }): Promise<LambdaFunctionURLEvent> {
  const { headers } = await signRequest({
    method: init.method,
    url: `https://${FUNCTION_URL_DOMAIN}${init.target}`,
    headers: init.headers ?? {},
    ...(init.body ? { body: new Uint8Array(init.body) } : {}),
    key: { alg: "ed25519", privateKey: signer.privateKey },
    keyid: signer.keyid,
  });
  return functionUrlEvent({ ...init, headers: { ...init.headers, ...headers } });
}

/** The context the runtime passes a handler, as a fresh execution environment's first invocation sees it. */
export function lambdaContext(): LambdaContext {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "verigate",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:verigate",
    memoryLimitInMB: "512",
    awsRequestId: crypto.randomUUID(),
    logGroupName: "/aws/lambda/verigate",
    logStreamName: "2026/11/23/[$LATEST]0123456789abcdef",
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
