import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { type AwsCredentials, SigV4Signer } from "./sigv4.ts";

/** The DynamoDB operations the gateway's hot path sends without the SDK (replay claims). */
export type DynamoDBOperation = "PutItem" | "GetItem";

/** The SDK's retry figures for DynamoDB (@smithy/core util-retry, 2026 defaults): full-jitter backoff from these bases. */
const RETRY_DELAY_BASE_MS = 50;
const THROTTLING_RETRY_DELAY_BASE_MS = 1_000;
const MAXIMUM_RETRY_DELAY_MS = 20_000;
/** As the SDK's node handler: enough sockets for a busy process, all kept alive between calls. */
const MAX_SOCKETS = 50;

/** Error codes the SDK retries with the throttling base (@smithy/core service-error-classification). */
const THROTTLING_CODES = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);
const TRANSIENT_CODES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);
/** A reset, refused, timed-out or unroutable connection, or a failed name lookup (the SDK's node error codes). */
const NETWORK_ERROR_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** A DynamoDB error answer: `name` is the exception's short name, as the SDK names its errors. */
export class DynamoDBServiceError extends Error {
  readonly status: number;
  constructor(name: string, message: string, status: number) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

/** Where and how the client sends, resolved once before its first call. */
export interface DynamoDBJsonSettings {
  /** The service endpoint: a local server's, or the region's. */
  endpoint: URL;
  region: string;
  /** Attempts per call, the first included. */
  maxAttempts: number;
}

export interface DynamoDBJsonClientOptions {
  settings: () => Promise<DynamoDBJsonSettings>;
  /** Called per attempt: the SDK's memoised provider chain, which refreshes credentials before they expire. */
  credentials: () => Promise<AwsCredentials>;
}

/** What the client holds once its settings resolved. */
interface Connection {
  settings: DynamoDBJsonSettings;
  signer: SigV4Signer;
  agent: HttpAgent;
  request: typeof httpRequest;
}

/**
 * DynamoDB's JSON protocol (`X-Amz-Target: DynamoDB_20120810.<Operation>`) over one keep-alive agent, SigV4-signed,
 * for the calls every signed request makes. The SDK's client spent about 0.7 ms of CPU per PutItem in its middleware
 * stack, serialisers and signer (a `--cpu-prof` of the Node server under signed load at concurrency 10: a quarter of
 * the gateway's busy time); this client sends the same request for 0.12 ms (docs/STORAGE.md). Retries follow
 * the SDK's standard mode: network errors, 5xx, 429, throttling and timeout codes, up to `maxAttempts` with
 * full-jitter backoff; every other answer is returned or thrown at once. There is no retry quota and no clock-skew
 * correction: a rejected signature fails the call, which fails closed.
 */
export class DynamoDBJsonClient {
  readonly #options: DynamoDBJsonClientOptions;
  #connection: Promise<Connection> | undefined;

  constructor(options: DynamoDBJsonClientOptions) {
    this.#options = options;
  }

  /** The operation's JSON answer; a DynamoDB error answer rejects with a `DynamoDBServiceError`, a network failure with its own error. */
  async send<T>(operation: DynamoDBOperation, input: object): Promise<T> {
    const connection = await this.#connect();
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      let text: string;
      try {
        text = await this.#attempt(connection, operation, body);
      } catch (error) {
        const retry = retryKind(error);
        if (retry === undefined || attempt >= connection.settings.maxAttempts) throw error;
        const base = retry === "throttling" ? THROTTLING_RETRY_DELAY_BASE_MS : RETRY_DELAY_BASE_MS;
        await sleep(Math.floor(Math.random() * Math.min(base * 2 ** (attempt - 1), MAXIMUM_RETRY_DELAY_MS)));
        continue;
      }
      return JSON.parse(text) as T;
    }
  }

  #connect(): Promise<Connection> {
    this.#connection ??= this.#options.settings().then((settings) => {
      const secure = settings.endpoint.protocol === "https:";
      const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };
      return {
        settings,
        signer: new SigV4Signer(settings.region, "dynamodb"),
        agent: secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions),
        request: secure ? httpsRequest : httpRequest,
      };
    });
    // A failed resolution is not kept: the next call tries again.
    this.#connection.catch(() => (this.#connection = undefined));
    return this.#connection;
  }

  async #attempt(connection: Connection, operation: DynamoDBOperation, body: string): Promise<string> {
    const { endpoint } = connection.settings;
    const headers = connection.signer.sign(
      {
        method: "POST",
        host: endpoint.host,
        path: "/",
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `DynamoDB_20120810.${operation}` },
        body,
      },
      await this.#options.credentials(),
      Date.now(),
    );
    headers["content-length"] = String(Buffer.byteLength(body));
    const { status, text } = await exchange(connection, headers, body);
    if (status === 200) return text;
    throw serviceError(status, text);
  }
}

function exchange(connection: Connection, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = connection.request(connection.settings.endpoint, { method: "POST", path: "/", headers, agent: connection.agent }, (response) => {
      const pieces: Buffer[] = [];
      response.on("data", (piece: Buffer) => pieces.push(piece));
      response.once("error", reject);
      response.once("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(pieces).toString("utf8") }));
    });
    request.once("error", reject);
    request.end(body);
  });
}

function serviceError(status: number, text: string): DynamoDBServiceError {
  let type = "";
  let message = text;
  try {
    const parsed = JSON.parse(text) as { __type?: unknown; message?: unknown; Message?: unknown };
    if (typeof parsed.__type === "string") type = parsed.__type;
    const said = parsed.message ?? parsed.Message;
    if (typeof said === "string") message = said;
  } catch {
    // A proxy's or load balancer's page: the status alone classifies it.
  }
  // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" -> "ConditionalCheckFailedException".
  const name = type.slice(type.lastIndexOf("#") + 1) || `HTTP${status}`;
  return new DynamoDBServiceError(name, message, status);
}

/** How the SDK's standard mode would retry `error`, or undefined when it would not. */
function retryKind(error: unknown): "throttling" | "transient" | undefined {
  if (error instanceof DynamoDBServiceError) {
    if (THROTTLING_CODES.has(error.name) || error.status === 429) return "throttling";
    if (TRANSIENT_CODES.has(error.name) || TRANSIENT_STATUSES.has(error.status)) return "transient";
    return undefined;
  }
  // No answer at all: the request may or may not have landed, which is why callers write conditionally.
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && NETWORK_ERROR_CODES.has(code) ? "transient" : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
