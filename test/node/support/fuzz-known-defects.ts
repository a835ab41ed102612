import { type Answer, type FuzzRequest, outcome } from "./fuzz.ts";
import type { Runtime } from "./runtimes.ts";

/**
 * Defects of today's gateway that the fuzz suites reach: findings of issue #10, being fixed, and (`finding: "new"`)
 * ones these suites found that the issue does not list. A case one of these explains exactly (this runtime, this
 * kind of request, this wrong answer) passes, so the branch stays green while the properties stay as the contract
 * wants them. Delete each entry with its fix, and a helper below once no entry uses it: the properties then hold
 * every case to the contract.
 */
interface KnownDefect {
  /** The finding of issue #10 that tracks it, or `new` for one these suites found that the issue does not list. */
  finding: number | "new";
  runtime: Runtime | "both";
  what: string;
  explains(request: FuzzRequest, answer: Answer): boolean;
}

const KNOWN_DEFECTS: readonly KnownDefect[] = [
  {
    finding: 4,
    runtime: "workers",
    what: "an object key of 509 to 512 bytes is 500 on every object route and in POST /v1/presign: with the `obj:` prefix it is over KV's 512-byte key limit",
    explains: (request, answer) => answer.status === 500 && (objectKeyBytes(request) ?? 0) >= 509,
  },
  {
    finding: 4,
    runtime: "workers",
    what: "a list prefix over 508 bytes is 500: with the `obj:` prefix it is over KV's 512-byte key limit",
    explains: (request, answer) => answer.status === 500 && (listPrefixBytes(request) ?? 0) > 508,
  },
  {
    finding: 5,
    runtime: "both",
    what: "a percent-encoded route segment (`/v1/%6Fbjects/team/x`) matches the route but shifts the key cut from the raw path (`s/team/x`)",
    explains: (request, answer) => answer.status === 201 && /^\/v1\/[^/?]*%/i.test(request.target),
  },
  {
    finding: 7,
    runtime: "both",
    what: "a whole Decimal `created` or `expires` (1796057756.0) is read as an Integer: the request passes, or fails only at the signature",
    explains: (request, answer) =>
      /;(created|expires)=-?\d+\.0+(;|$)/.test(request.headers["Signature-Input"] ?? "") && ["200", "403 forbidden", "401 signature_invalid", "401 replayed_request", "401 signature_expired", "401 signature_not_yet_valid"].includes(outcome(answer)),
  },
  {
    finding: 10,
    runtime: "aws",
    what: "a request head over Node's 16 KiB limit gets Node's own bare 431 (or 400), without problem+json or X-Request-Id",
    explains: (request, answer) => headBytes(request) > NODE_MAX_HEADER_BYTES && (answer.status === 431 || answer.status === 400) && answer.headers["x-request-id"] === undefined,
  },
  {
    finding: 10,
    runtime: "aws",
    what:
      "a body that differs in length from its Content-Length (junk after a short body, or a body cut short by the client) gets Node's own bare 400, " +
      "without problem+json or X-Request-Id, whatever the gateway answered",
    explains: (request, answer) => lengthMismatch(request) !== 0 && answer.status === 400 && answer.headers["x-request-id"] === undefined,
  },
  {
    finding: 10,
    runtime: "aws",
    what: "a request target with a byte Node's parser refuses (a backslash, a raw non-ASCII byte) gets Node's own bare 400, without problem+json or X-Request-Id",
    explains: (request, answer) => /[\\\u0080-\uffff]/.test(request.target) && answer.status === 400 && answer.headers["x-request-id"] === undefined,
  },
  {
    finding: "new",
    runtime: "workers",
    what:
      "a link whose (MAC-valid) token pins a version id that makes a metadata key over KV's 512 bytes is 500: finding 4's limit again, " +
      "reachable only by whoever holds PRESIGN_SECRET, since the gateway issues 26-character versions",
    explains: (request, answer) => answer.status === 500 && request.target.startsWith("/v1/dl/") && (linkVersionBytes(request.target) ?? 0) > 500,
  },
  {
    finding: "new",
    runtime: "workers",
    what:
      "workerd hands the gateway a path with `^` re-encoded as `%5E` (WHATWG URL, Node and fetch keep `^`), so a path signed as README says " +
      "(`new URL(url).href`) is 401 signature_invalid on Workers and accepted on the Node build",
    explains: (request, answer) => (request.target.split("?")[0] ?? "").includes("^") && outcome(answer) === "401 signature_invalid",
  },
  {
    finding: "new",
    runtime: "workers",
    what:
      "a JSON body (POST /v1/keys, /v1/presign) that ends before its Content-Length is 500 internal (\"Network connection lost.\" from " +
      "readVerifiedJson), where a PUT's is 400 bad_request; the Node build logs the same case as internal too",
    explains: (request, answer) => request.method === "POST" && /^\/v1\/(keys|presign)\b/.test(request.target) && lengthMismatch(request) > 0 && answer.status === 500,
  },
  {
    finding: "new",
    runtime: "both",
    what:
      "a covered component the gateway cannot build a base from (an unsupported derived component, a field name that is not one, an absent field) is " +
      "400 malformed_signature for an active key but 401 signature_invalid for an unknown or revoked one: whether a keyid exists shows without any signature",
    explains: (request, answer) => outcome(answer) === "401 signature_invalid" && coversUnbuildableComponent(request),
  },
];

const SUPPORTED_DERIVED = new Set(["@method", "@authority", "@path", "@query"]);

function coversUnbuildableComponent(request: FuzzRequest): boolean {
  const innerList = /^[^=]*=\(([^)]*)\)/.exec(request.headers["Signature-Input"] ?? "")?.[1] ?? "";
  const sent = new Set(Object.keys(request.headers).map((name) => name.toLowerCase()));
  return [...innerList.matchAll(/"([^"]*)"/g)].some(([, name = ""]) =>
    name.startsWith("@") ? !SUPPORTED_DERIVED.has(name) : !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name) || (!sent.has(name) && name !== "host"),
  );
}

/**
 * The UTF-8 length of the key an object route names (its raw path after the route, decoded once) or a presign
 * body names; null elsewhere.
 */
function objectKeyBytes(request: FuzzRequest): number | null {
  const path = request.target.split("?")[0] ?? "";
  if (path === "/v1/presign") return presignKeyBytes(request.body);
  if (!path.startsWith("/v1/objects/")) return null;
  try {
    return Buffer.byteLength(decodeURIComponent(path.slice("/v1/objects/".length)));
  } catch {
    return null;
  }
}

function presignKeyBytes(body: Uint8Array | undefined): number | null {
  try {
    const { key } = JSON.parse(Buffer.from(body ?? []).toString("utf8")) as { key?: unknown };
    return typeof key === "string" ? Buffer.byteLength(key) : null;
  } catch {
    return null;
  }
}

/** The UTF-8 length of a listing's prefix as the router reads it; null for other requests. */
function listPrefixBytes(request: FuzzRequest): number | null {
  const [path, query] = request.target.split("?");
  if (path !== "/v1/objects" || query === undefined) return null;
  const prefix = new URLSearchParams(query).get("prefix");
  return prefix === null ? null : Buffer.byteLength(prefix);
}

/** The UTF-8 length of the version a link token's payload names, or null when it names none. */
function linkVersionBytes(target: string): number | null {
  const payload = target.slice("/v1/dl/".length).split(".")[0] ?? "";
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { version?: unknown };
    return typeof claims.version === "string" ? Buffer.byteLength(claims.version) : null;
  } catch {
    return null;
  }
}

/** How many bytes the declared Content-Length promises beyond the body sent (negative: the body is longer). */
function lengthMismatch(request: FuzzRequest): number {
  const declared = Object.entries(request.headers).find(([name]) => name.toLowerCase() === "content-length")?.[1];
  return declared === undefined || !request.body ? 0 : Number(declared) - request.body.length;
}

/** Node's default `--max-http-header-size`. */
const NODE_MAX_HEADER_BYTES = 16 * 1024;

function headBytes(request: FuzzRequest): number {
  return Object.entries(request.headers).reduce((sum, [name, value]) => sum + Buffer.byteLength(`${name}: ${value}\r\n`), request.target.length);
}

export function excusedBy(runtime: Runtime, request: FuzzRequest, answer: Answer): KnownDefect | undefined {
  return KNOWN_DEFECTS.find((defect) => (defect.runtime === "both" || defect.runtime === runtime) && defect.explains(request, answer));
}
