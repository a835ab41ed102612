import fc from "fast-check";
import { fromBase64 } from "../../../shared/crypto/encoding.ts";
import { ACTIONS } from "../../../shared/keys/index.ts";
import { newEd25519Key } from "../../support/keys.ts";
import { excusedBy } from "./fuzz-known-defects.ts";
import { FUNCTION_URL_TERMINATES_HTTP, type Runtime } from "./runtimes.ts";
import type { Signer, WireClient, WireResponse } from "./wire.ts";

/**
 * What every fuzz suite shares: the seed, how one request goes on the wire, and the properties every answer of
 * the gateway must have whatever it was sent (PROTOCOL section 2).
 *
 * Each suite file runs `describe.concurrent.each(RUNTIMES)` with `it.sequential` properties: the builds are fuzzed
 * at the same time (workerd and the Lambda Function URL are processes of their own, the Node build runs in the
 * test's), which cuts the wall time on two cores, while the properties against one gateway run one after the other.
 */

/**
 * The seed every property starts from, so a run is reproducible. A failure prints its seed, shrink path and
 * counterexample (fast-check's message, shown by vitest): `FUZZ_SEED=<seed>` runs that sequence again, and
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path>` with `-t <property>` goes straight to the shrunk case. `FUZZ_SEED=random` explores.
 */
const DEFAULT_SEED = 20_261_123;
const FUZZ_SEED = seedFrom(process.env.FUZZ_SEED);
const FUZZ_PATH = process.env.FUZZ_PATH || undefined;
/** Multiplies every property's case count for a longer exploration (`FUZZ_SCALE=10`); 1 in `npm test`. */
const FUZZ_SCALE = scaleFrom(process.env.FUZZ_SCALE);

/**
 * `FUZZ_KEEP_GOING=1` prints every violating case (one `FUZZ VIOLATION` line each) and lets the property go on, so
 * one exploratory run lists all the distinct failures instead of the first one, shrunk.
 */
const KEEP_GOING = Boolean(process.env.FUZZ_KEEP_GOING);

/**
 * A property's time budget, stretched with FUZZ_SCALE: three times what the dearest property took on this VM under
 * load average 10 (60 s), so only a hang ends it, and a hang is caught per request first (ANSWER_WITHIN_MS).
 */
export const FUZZ_TIMEOUT_MS = 180_000 * Math.max(1, FUZZ_SCALE);

/**
 * Generous: these small requests take 5 to 150 ms each on this project's 2-core VM, shared and loaded (load average
 * 4 to 13). The bound catches a request the gateway never finishes answering, reported with its counterexample
 * instead of as a suite timeout; it does not measure speed.
 */
const ANSWER_WITHIN_MS = 10_000;

function seedFrom(text: string | undefined): number {
  if (text === undefined || text === "") return DEFAULT_SEED;
  if (text === "random") return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", not ${text}`);
  return seed;
}

function scaleFrom(text: string | undefined): number {
  const scale = text === undefined || text === "" ? 1 : Number(text);
  if (!(scale > 0)) throw new Error(`FUZZ_SCALE must be a positive number, not ${text}`);
  return scale;
}

/**
 * fast-check's parameters for a property of `numRuns` cases. A failure throws an error whose message holds the
 * seed, the shrink path and the smallest counterexample, which vitest prints as the test's failure.
 */
export function fuzzParameters<T>(numRuns: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * FUZZ_SCALE)), ...(FUZZ_PATH ? { path: FUZZ_PATH } : {}) };
}

/** A request exactly as it goes on the wire: target neither normalised nor re-encoded, headers as given. */
export interface FuzzRequest {
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** Ends the sending side after the body, so a server waiting for more than was sent sees the end. */
  halfClose?: boolean;
}

export type Answer = WireResponse;

/**
 * Node's default `--max-http-header-size`: past it the Node server answers 431 `headers_too_large`, and the loopback
 * Function URL's own parser refuses the request before any invocation.
 */
export const NODE_MAX_HEADER_BYTES = 16 * 1024;

export function headBytes(request: FuzzRequest): number {
  return Object.entries(request.headers).reduce((sum, [name, value]) => sum + Buffer.byteLength(`${name}: ${value}\r\n`), request.target.length);
}

/**
 * A request the Function URL refuses itself, so it never reaches the Lambda gateway: a head past its parser's limit,
 * or a body that ends before its Content-Length or runs past it.
 */
function refusedByFunctionUrl(request: FuzzRequest): boolean {
  const declared = Object.entries(request.headers).find(([name]) => name.toLowerCase() === "content-length")?.[1];
  const framingBroken = declared !== undefined && Number(declared) !== (request.body?.length ?? 0);
  return headBytes(request) > NODE_MAX_HEADER_BYTES || framingBroken;
}

/**
 * Sends `request` on its own connection and reads the whole answer, or fails once ANSWER_WITHIN_MS has passed.
 * A body sets `Content-Length` unless the request names one.
 */
export async function exchange(gateway: WireClient, request: FuzzRequest): Promise<Answer> {
  const client = clientAddress();
  const hasLength = Object.keys(request.headers).some((name) => name.toLowerCase() === "content-length");
  const headers = {
    ...request.headers,
    ...(request.body && !hasLength ? { "Content-Length": String(request.body.length) } : {}),
    "CF-Connecting-IP": client,
  };
  const connection = gateway.connect({
    method: request.method,
    target: request.target,
    headers,
    localAddress: client,
    ...(request.body ? { body: request.body } : {}),
  });
  if (request.halfClose) connection.halfClose();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no whole answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
  });
  try {
    const response = await Promise.race([connection.response, deadline]);
    if (!response) throw new Error("the connection closed before a status line");
    return response;
  } finally {
    clearTimeout(timer);
    connection.destroy();
  }
}

/**
 * A client address of its own for every request: every build limits each client address to 1,000 requests per
 * 10 s, which a fuzz run reaches, and a 429 would stand in for the answer under test. The Workers build reads the
 * address from `CF-Connecting-IP` (unsigned, so the signature checks do not see it), the Node build from the socket,
 * and the Lambda build from the Function URL's `sourceIp`, the socket's peer: both come from this loopback address.
 */
function clientAddress(): string {
  return `127.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
}

/** The answer's problem+json body, when it has one. */
function problemBody(answer: Answer): Record<string, unknown> | null {
  if (answer.headers["content-type"] !== "application/problem+json" || answer.body.length === 0) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(answer.body).toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * What any answer must be (PROTOCOL section 2): never a 5xx; whole by its own framing; an X-Request-Id; and every
 * error problem+json whose `status` is the response's, whose `code` names it and whose `request_id` is the header's.
 * HEAD errors carry no body, so only their headers are judged.
 */
function wellFormedViolations(method: string, answer: Answer): string[] {
  const violations: string[] = [];
  const requestId = answer.headers["x-request-id"];
  if (answer.status >= 500) violations.push(`status ${answer.status}`);
  if (!answer.complete) violations.push("body ended short of its framing");
  if (!requestId) violations.push("no X-Request-Id");
  if (answer.status >= 400) {
    if (answer.headers["content-type"] !== "application/problem+json") violations.push(`error content-type ${answer.headers["content-type"]}`);
    else if (method !== "HEAD") {
      const body = problemBody(answer);
      if (!body) violations.push("problem+json body unparsable");
      else {
        if (body.status !== answer.status) violations.push(`problem status ${String(body.status)}`);
        if (typeof body.code !== "string" || body.type !== `urn:verigate:error:${body.code}`) violations.push(`problem code ${String(body.code)}`);
        if (body.request_id !== requestId) violations.push(`request_id ${String(body.request_id)} is not X-Request-Id ${requestId}`);
      }
    }
  }
  return violations;
}

/** The status and, for an error, the problem code: what a suite compares to what the request deserved. */
export function outcome(answer: Answer): string {
  const code = problemBody(answer)?.code;
  return code === undefined ? String(answer.status) : `${answer.status} ${String(code)}`;
}

/**
 * Whether the answer is one a suite says it deserves: an outcome (`201`, `400 bad_request`; a HEAD error, which has
 * no body, by its status), one of several, `refused` (any 4xx) or `any` (only the properties every answer has).
 */
export function deserve(answer: Answer, deserves: string | readonly string[]): string[] {
  const alternatives = typeof deserves === "string" ? [deserves] : deserves;
  const got = outcome(answer);
  const matches = (wanted: string) =>
    wanted === "any" ||
    (wanted === "refused" ? answer.status >= 400 && answer.status < 500 : got === wanted || (answer.body.length === 0 && wanted.split(" ")[0] === got));
  return alternatives.some(matches) ? [] : [`answered ${got}, the contract asks ${alternatives.join(" or ")}`];
}

/**
 * Fails the property with everything needed to reproduce the case by hand, unless a known defect of issue #10
 * (`fuzz-known-defects.ts`) explains exactly this answer to exactly this request.
 */
function judge(runtime: Runtime, request: FuzzRequest, answer: Answer, violations: readonly string[]): void {
  if (violations.length === 0 || excusedBy(runtime, request, answer)) return;
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name, value.length > 300 ? `${value.slice(0, 300)}... (${value.length} chars)` : value]),
  );
  const shown = { method: request.method, target: request.target, headers, body: request.body && preview(request.body) };
  const report = `${runtime}: ${violations.join("; ")}\n  request: ${JSON.stringify(shown)}\n  answer: ${answer.status} ${JSON.stringify(answer.headers)} ${preview(answer.body)}`;
  if (!KEEP_GOING) throw new Error(report);
  console.error(`FUZZ VIOLATION ${report.replaceAll("\n", " ")}`);
}

/**
 * Checks the properties every answer has, then `extra` (what this request deserved); see `judge`. On Lambda a request
 * the Function URL refuses itself is judged by that refusal alone: the gateway never saw it.
 */
export function expectAnswer(runtime: Runtime, request: FuzzRequest, answer: Answer, extra: readonly string[] = []): void {
  if (runtime === "lambda" && refusedByFunctionUrl(request)) {
    const refused = answer.status >= 400 && answer.status < 500;
    return judge(runtime, request, answer, refused ? [] : [`answered ${answer.status}, where ${FUNCTION_URL_TERMINATES_HTTP}`]);
  }
  judge(runtime, request, answer, [...wellFormedViolations(request.method, answer), ...extra]);
}

function preview(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.subarray(0, 300)).toString("latin1");
  return JSON.stringify(bytes.length > 300 ? `${text}... (${bytes.length} bytes)` : text);
}

/**
 * The keys the suites sign with: admins, users (ed25519, everything under `fuzz/`), `hmac` (read under `fuzz/`).
 * `admin` and `user` take turns among several keys of the kind: every build limits each keyid to 1,000 verified
 * requests per 10 s, which one key would reach on a machine a few times faster than this VM.
 */
export interface KeyFixtures {
  readonly admin: Signer;
  readonly user: Signer;
  admins: readonly Signer[];
  users: readonly Signer[];
  hmac: Signer;
  /** Registered, then revoked. */
  revoked: Signer;
  /** Never registered. */
  unknown: Signer;
}

/** Keys per kind that take turns (see KeyFixtures). */
const KEYS_PER_KIND = 4;

export const FUZZ_SCOPE_PREFIX = "fuzz/";
/** PROTOCOL section 7 asks for at least 32 bytes; the object suite forges link tokens with it. */
export const FUZZ_PRESIGN_SECRET = "presign-secret-for-the-fuzz-suites-0123456789";

export function jsonBytes(value: unknown): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Registers a key through `POST /v1/keys` as the admin; the created record (with an hmac key's secret). */
async function createKey(gateway: WireClient, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await gateway.signedFetch("POST", "/v1/keys", { body: jsonBytes(request), headers: { "content-type": "application/json" } });
  if (response.status !== 201) throw new Error(`creating key ${String(request.keyid)}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

export async function keyFixtures(gateway: WireClient): Promise<KeyFixtures> {
  const ed25519 = async (keyid: string, register: boolean, admin = false): Promise<Signer> => {
    const pair = await newEd25519Key();
    const scopes = [{ prefix: admin ? "" : FUZZ_SCOPE_PREFIX, actions: [...ACTIONS] }];
    if (register) await createKey(gateway, { keyid, alg: "ed25519", public_key: pair.publicKey, scopes, admin });
    return { keyid, key: { alg: "ed25519", privateKey: pair.privateKey } };
  };
  const hmac = await createKey(gateway, { keyid: "fuzz-hmac", alg: "hmac-sha256", scopes: [{ prefix: FUZZ_SCOPE_PREFIX, actions: ["read"] }] });
  const revoked = await ed25519("fuzz-revoked", true);
  const revocation = await gateway.signedFetch("DELETE", "/v1/keys/fuzz-revoked");
  if (revocation.status !== 204) throw new Error(`revoking fuzz-revoked: ${revocation.status}`);
  const admins: Signer[] = [gateway.admin];
  const users: Signer[] = [];
  for (let index = 1; index < KEYS_PER_KIND; index++) admins.push(await ed25519(`fuzz-admin-${index}`, true, true));
  for (let index = 0; index < KEYS_PER_KIND; index++) users.push(await ed25519(index === 0 ? "fuzz-user" : `fuzz-user-${index}`, true));
  let turn = 0;
  return {
    get admin() {
      return admins[turn++ % admins.length] as Signer;
    },
    get user() {
      return users[turn++ % users.length] as Signer;
    },
    admins,
    users,
    hmac: { keyid: "fuzz-hmac", key: { alg: "hmac-sha256", secret: fromBase64(String(hmac.secret)) } },
    revoked,
    unknown: await ed25519("fuzz-unknown", false),
  };
}
