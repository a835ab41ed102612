import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type LinkClaims, issueLinkToken } from "../../shared/presign/token.ts";
import { randomBytes, sha256Hex } from "./support/bytes.ts";
import { type Answer, FUZZ_TIMEOUT_MS, type FuzzRequest, type KeyFixtures, deserve, exchange, expectAnswer, fuzzParameters, jsonBytes, keyFixtures, outcome } from "./support/fuzz.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

const RANGE_RUNS = 120;
const LINK_RUNS = 150;
const PRESIGN_SECRET = "presign-secret-for-the-fuzz-suites-0123456789";
/** The smallest chunk the gateway allows, so the object spans two chunks and ranges cross the boundary. */
const CHUNK = 64 * 1024;
const SIZE = CHUNK + 100;
/** PROTOCOL section 4. */
const LINK_SECONDS = 300;

/** Stands for "200 or 400" (see `deservedRange`). */
const EMPTY_RANGE = -1;

/** Offsets where range handling can go wrong: chunk and object boundaries, and numbers past what a double holds. */
const offset = fc.oneof(
  fc.constantFrom(0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, SIZE - 2, SIZE - 1, SIZE, SIZE + 1, 2 ** 31, 2 ** 53, 2 ** 53 + 2).map(String),
  fc.nat(SIZE + 10).map(String),
  fc.constantFrom("99999999999999999999999", "00", "007", "1e3", "-1", "0x10", "", " 1"),
);
const spec = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(offset, offset).map(([first, last]) => `${first}-${last}`) },
  { weight: 2, arbitrary: offset.map((first) => `${first}-`) },
  { weight: 2, arbitrary: offset.map((suffix) => `-${suffix}`) },
  { weight: 1, arbitrary: fc.constantFrom("-", "", "1-2-3", "a-b", "1 - 2", "--1") },
);
const space = fc.constantFrom("", "", " ", "  ", "\t");
/** Range headers: mostly RFC 9110 byte ranges around the interesting offsets, some other units and junk. */
const rangeHeader = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom("bytes", "bytes", "bytes", "Bytes", "BYTES", "items", "none"), space, fc.array(spec, { minLength: 1, maxLength: 3 }), space).map(([unit, before, specs, after]) => `${before}${unit}${after}=${specs.join(`,${after}`)}`) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(..."bytes=0123456789-, ;\t*"), maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

type Validator = "etag" | "weak-etag" | "other-etag" | "star" | "date" | undefined;
const validator = fc.constantFrom<Validator>(undefined, undefined, undefined, undefined, "etag", "weak-etag", "other-etag", "star", "date");

/**
 * The answer a GET or HEAD of an object of `size` bytes deserves for these headers, by RFC 9110 and README's
 * decisions: one satisfiable range is 206, several or another unit are the whole object (200), a syntax error is
 * 400, a first byte past the end is 416; If-None-Match first, If-Range lets the range count only for the current tag.
 */
function deservedRange(range: string | undefined, size: number, ifNoneMatch: Validator, ifRange: Validator): { status: number; first?: number; last?: number } {
  if (ifNoneMatch === "etag" || ifNoneMatch === "weak-etag" || ifNoneMatch === "star") return { status: 304 };
  // An empty field value is no field on Workers (workerd drops it) and a syntax error on Node: either answer will do.
  if (range?.trim() === "") return { status: EMPTY_RANGE };
  if (range === undefined || (ifRange !== undefined && ifRange !== "etag")) return { status: 200 };
  const specifier = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=(.*)$/s.exec(range);
  if (!specifier) return { status: 400 };
  if (specifier[1]?.toLowerCase() !== "bytes") return { status: 200 };
  const specs = (specifier[2] ?? "").split(",").map((text) => text.trim()).filter((text) => text !== "");
  const parsed = specs.map((text) => /^(\d*)-(\d*)$/.exec(text));
  if (parsed.length === 0 || parsed.some((match) => !match || (match[1] === "" && match[2] === "") || (match[1] !== "" && match[2] !== "" && Number(match[2]) < Number(match[1])))) {
    return { status: 400 };
  }
  if (parsed.length > 1) return { status: 200 };
  const [, first = "", last = ""] = parsed[0] ?? [];
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return { status: 416 };
    return size === 0 ? { status: 200 } : { status: 206, first: Math.max(0, size - suffix), last: size - 1 };
  }
  if (Number(first) >= size) return { status: 416 };
  return { status: 206, first: Number(first), last: Math.min(last === "" ? size - 1 : Number(last), size - 1) };
}

/** Range, If-Range and If-None-Match on objects and on gateway links, and the tokens of links themselves. */
describe.concurrent.each(RUNTIMES)("on %s", (runtime, start) => {
  let gateway: GatewayHarness;
  let keys: KeyFixtures;
  const bytes = randomBytes(SIZE);
  const objects = { whole: { key: "fuzz/range", bytes }, empty: { key: "fuzz/empty", bytes: new Uint8Array() } } as const;
  const links: Record<keyof typeof objects, string> = { whole: "", empty: "" };
  /** The link to `fuzz/range` and what its token is made of. */
  let token = "";
  let version = "";
  let otherVersion = "";

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET, CHUNK_SIZE_BYTES: String(CHUNK) });
    keys = await keyFixtures(gateway);
    for (const [name, { key, bytes: body }] of Object.entries(objects)) {
      const put = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body: new Uint8Array(body) });
      if (put.status !== 201) throw new Error(`fixture ${key}: ${put.status}`);
      if (name === "whole") version = String(((await put.json()) as { version: string }).version);
      else otherVersion = String(((await put.json()) as { version: string }).version);
      const presigned = await gateway.signedFetch("POST", "/v1/presign", { body: jsonBytes({ key, expires_in: LINK_SECONDS }), headers: { "content-type": "application/json" } });
      if (presigned.status !== 200) throw new Error(`presigning ${key}: ${presigned.status}`);
      links[name as keyof typeof objects] = new URL(String(((await presigned.json()) as { url: string }).url)).pathname;
    }
    token = links.whole.slice("/v1/dl/".length);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const etag = (body: Uint8Array) => `"${sha256Hex(body)}"`;
  const validatorText = (kind: Validator, body: Uint8Array): string | undefined =>
    kind === undefined
      ? undefined
      : { etag: etag(body), "weak-etag": `W/${etag(body)}`, "other-etag": `"${"0".repeat(64)}"`, star: "*", date: new Date().toUTCString() }[kind];

  it.sequential(`serves every Range as RFC 9110 says, on objects and links alike, byte-exact; never a 5xx (${RANGE_RUNS} cases, seeded)`, async () => {
    const cases = fc.record({
      via: fc.constantFrom<"object" | "link">("object", "link"),
      which: fc.constantFrom<keyof typeof objects>("whole", "whole", "whole", "empty"),
      method: fc.constantFrom("GET", "GET", "HEAD"),
      range: rangeHeader,
      ifNoneMatch: validator,
      ifRange: validator,
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ via, which, method, range, ifNoneMatch, ifRange }) => {
        const body = objects[which].bytes;
        const conditional = {
          ...(range === undefined ? {} : { Range: range }),
          ...(ifNoneMatch === undefined ? {} : { "If-None-Match": validatorText(ifNoneMatch, body) ?? "" }),
          ...(ifRange === undefined ? {} : { "If-Range": validatorText(ifRange, body) ?? "" }),
        };
        const target = via === "object" ? `/v1/objects/${objects[which].key}` : links[which];
        const headers = via === "object" ? await gateway.signedHeaders(method, target, { headers: conditional }) : conditional;
        const request: FuzzRequest = { method, target, headers };
        const answer = await exchange(gateway, request);
        expectAnswer(runtime, request, answer, rangeViolations(method, answer, body, deservedRange(range, body.length, ifNoneMatch, ifRange)));
      }),
      fuzzParameters(RANGE_RUNS),
    );
  }, FUZZ_TIMEOUT_MS);

  function rangeViolations(method: string, answer: Answer, body: Uint8Array, deserves: ReturnType<typeof deservedRange>): string[] {
    if (deserves.status === EMPTY_RANGE) return answer.status === 200 || answer.status === 400 ? [] : [`answered ${outcome(answer)} to an empty Range`];
    if (answer.status !== deserves.status) return [`answered ${outcome(answer)}, RFC 9110 and the contract ask ${deserves.status}`];
    const headers = answer.headers;
    const [first, last] = [deserves.first ?? 0, deserves.last ?? body.length - 1];
    const expected =
      answer.status === 206
        ? { "content-range": `bytes ${first}-${last}/${body.length}`, "content-length": String(last - first + 1) }
        : answer.status === 200
          ? { "content-range": undefined, "content-length": String(body.length) }
          : answer.status === 416
            ? { "content-range": `bytes */${body.length}` }
            : {};
    const wrong = Object.entries(expected).filter(([name, value]) => headers[name] !== value);
    if (wrong.length > 0) return wrong.map(([name, value]) => `${name} ${headers[name]}, expected ${value}`);
    if (method === "HEAD" || (answer.status !== 200 && answer.status !== 206)) return [];
    const slice = answer.status === 206 ? body.subarray(first, last + 1) : body;
    return Buffer.from(answer.body).equals(Buffer.from(slice)) ? [] : [`the body is not bytes ${first}-${last} of the object`];
  }

  type Damage = { kind: string; at?: number; text?: string; to?: number };
  /** Ways to damage a genuine token: most make another token, some (a query, an escape) leave the same one. */
  const damage = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.constantFrom(".", "=", "A", "-", "_", "+", "/", "%2E", "%41", "%", "..", "~") }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("encode" as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("swap-mac" as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("pad" as const), to: fc.constantFrom(4095, 4096, 4097, 10_000) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("junk" as const), text: fc.stringMatching(/^[A-Za-z0-9_.~-]{0,80}$/) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("suffix" as const), text: fc.constantFrom("?a=b", "?", "/", "/x", "%2Fx", ";x", "#") }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("none" as const) }) },
  );

  /**
   * Claims a forger holding PRESIGN_SECRET could sign, to reach what the gateway does after the MAC: each with the
   * answer it deserves (PROTOCOL section 4). `{version}` is the link's version, `{other}` another object's.
   */
  const FORGED: [claims: Record<string, unknown>, deserves: string][] = [
    [{}, "200"],
    [{ extra: [1, { x: null }] }, "200"],
    [{ exp: "past" }, "410 link_expired"],
    [{ exp: 1.5 }, "404 not_found"],
    [{ exp: "soon" }, "404 not_found"],
    [{ exp: 2 ** 60 }, "404 not_found"],
    [{ kid: "nobody" }, "410 link_revoked"],
    [{ kid: "fuzz-revoked" }, "410 link_revoked"],
    [{ kid: "x".repeat(600) }, "410 link_revoked"],
    [{ kid: 5 }, "404 not_found"],
    [{ version: "nope" }, "404 not_found"],
    [{ version: "{other}" }, "404 not_found"],
    [{ version: "v".repeat(600) }, "404 not_found"],
    [{ version: "../{version}" }, "404 not_found"],
    [{ key: "fuzz/empty" }, "404 not_found"],
    [{ key: null }, "404 not_found"],
    [{ v: 2 }, "404 not_found"],
    [{ v: "1" }, "404 not_found"],
    [{ nonce: 5 }, "404 not_found"],
    [{ nonce: "{fresh}" }, "200"],
  ];

  it.sequential(`answers every damaged or forged link token 404 or 410, and only genuine ones with the bytes; never a 5xx (${LINK_RUNS} cases, seeded)`, async () => {
    const cases = fc.oneof(
      { weight: 3, arbitrary: fc.record({ method: fc.constantFrom("GET", "HEAD", "GET", "DELETE", "POST"), damage }) },
      { weight: 1, arbitrary: fc.record({ method: fc.constantFrom("GET", "HEAD"), forged: fc.constantFrom(...FORGED) }) },
    );
    await fc.assert(
      fc.asyncProperty(cases, async (testCase) => {
        const { method } = testCase;
        const sent = "forged" in testCase ? await forge(testCase.forged[0]) : damaged(testCase.damage as Damage);
        const request: FuzzRequest = { method, target: `/v1/dl/${sent}`, headers: {} };
        const answer = await exchange(gateway, request);
        const deserves = "forged" in testCase ? testCase.forged[1] : genuine(sent) ? "200" : "404 not_found";
        const served = answer.status === 200 && method === "GET" && !Buffer.from(answer.body).equals(Buffer.from(bytes));
        expectAnswer(runtime, request, answer, [
          ...deserve(answer, method === "GET" || method === "HEAD" ? deserves : ["404 not_found", "405"]),
          ...(served ? ["served bytes that are not the object's"] : []),
        ]);
      }),
      fuzzParameters(LINK_RUNS),
    );
  }, FUZZ_TIMEOUT_MS);

  /** A token the router reads as the genuine one: the same text once percent-decoded, before any query or fragment. */
  function genuine(sent: string): boolean {
    const path = sent.split(/[?#]/)[0] ?? "";
    try {
      return decodeURIComponent(path) === token;
    } catch {
      return false;
    }
  }

  function damaged(damage: Damage): string {
    const at = (damage.at ?? 0) % (token.length + 1);
    switch (damage.kind) {
      case "flip": {
        const index = at % token.length;
        return `${token.slice(0, index)}${token[index] === "A" ? "B" : "A"}${token.slice(index + 1)}`;
      }
      case "cut":
        return token.slice(0, at);
      case "insert":
        return `${token.slice(0, at)}${damage.text ?? ""}${token.slice(at)}`;
      case "encode": {
        const index = at % token.length;
        return `${token.slice(0, index)}%${token.charCodeAt(index).toString(16).toUpperCase()}${token.slice(index + 1)}`;
      }
      case "swap-mac": {
        const other = links.empty.slice("/v1/dl/".length);
        return `${token.split(".")[0]}.${other.split(".")[1]}`;
      }
      case "pad":
        return `${token}${"A".repeat(Math.max(0, (damage.to ?? 0) - token.length))}`;
      case "junk":
        return damage.text ?? "";
      case "suffix":
        return `${token}${damage.text ?? ""}`;
      default:
        return token;
    }
  }

  async function forge(overrides: Record<string, unknown>): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { key: objects.whole.key, version, exp: now + LINK_SECONDS, kid: keys.admin.keyid };
    for (const [name, value] of Object.entries(overrides)) {
      claims[name] =
        value === "past" ? now - 10 : value === "soon" ? String(now + 60) : value === "{fresh}" ? crypto.randomUUID() : typeof value === "string" ? value.replace("{version}", version).replace("{other}", otherVersion) : value;
    }
    return issueLinkToken(claims as unknown as LinkClaims, PRESIGN_SECRET);
  }
});
