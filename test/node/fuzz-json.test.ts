import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { fromBase64, toBase64Url } from "../../shared/crypto/encoding.ts";
import { ACTIONS } from "../../shared/keys/index.ts";
import { newEd25519Key } from "../support/keys.ts";
import { sha256Hex } from "./support/bytes.ts";
import {
  type Answer,
  FUZZ_SCOPE_PREFIX,
  FUZZ_TIMEOUT_MS,
  type FuzzRequest,
  type KeyFixtures,
  deserve,
  exchange,
  expectAnswer,
  fuzzParameters,
  keyFixtures,
} from "./support/fuzz.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness, Signer } from "./support/wire.ts";

const KEY_RUNS = 70;
const PRESIGN_RUNS = 80;
const PRESIGN_SECRET = "presign-secret-for-the-fuzz-suites-0123456789";
/** PROTOCOL section 7 and functions/middleware/body.ts. */
const PRESIGN_MAX_SECONDS = 3600;
const MAX_JSON_BODY_BYTES = 64 * 1024;
const MAX_SCOPES = 64;
const MAX_PREFIX_BYTES = 512;
const MAX_KEY_BYTES = 512;
/** How far `expires_at` of a link may sit from now plus `expires_in`: the request's own time on a loaded machine. */
const EXPIRY_SLACK_SECONDS = 10;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A field left out of the body. */
const ABSENT = Symbol("absent");
type Field = [name: string, value: unknown];

/**
 * Field values, some as placeholders filled at send time: `{keyid}` a fresh keyid, `{pk}` the public half of a key
 * the suite holds, `{random-pk}` 32 random bytes (no one holds a private key for them, and they need not be a curve
 * point), `{future}`/`{past}` a day from now, `{taken}` a keyid that exists.
 */
const KEY_FIELDS: Field[] = [
  ...["{keyid}", "{taken}", "k".repeat(128), "k".repeat(129), "", "a b", "a/b", "caf\u00e9", "key:x", "a.b_c:d-e", 5, null, ["x"], {}, ABSENT].map((value): Field => ["keyid", value]),
  ...["ed25519", "hmac-sha256", "ED25519", "rsa", "", null, 1, ABSENT].map((value): Field => ["alg", value]),
  ...["{pk}", "{random-pk}", "{pk}=", "{pk-std}", "{pk-short}", "{pk-long}", "", 32, null, ABSENT].map((value): Field => ["public_key", value]),
  ...[
    [],
    [{ prefix: "", actions: [...ACTIONS] }],
    [{ prefix: "fuzz/", actions: ["read", "read", "list"] }],
    [{ prefix: "\u00e9".repeat(256), actions: [] }],
    [{ prefix: "\u00e9".repeat(256) + "x", actions: [] }],
    Array.from({ length: MAX_SCOPES }, () => ({ prefix: "a/", actions: ["read"] })),
    Array.from({ length: MAX_SCOPES + 1 }, () => ({ prefix: "a/", actions: ["read"] })),
    [{ prefix: 1, actions: [] }],
    [{ prefix: "a/", actions: ["admin"] }],
    [{ prefix: "a/", actions: "read" }],
    [{ prefix: "a/" }],
    [null],
    ["a/"],
    [[]],
    { prefix: "", actions: [] },
    "all",
    null,
    ABSENT,
  ].map((value): Field => ["scopes", value]),
  ...[
    "{future}",
    "{past}",
    "2026-13-45T00:00:00Z",
    "+275760-09-13T00:00:00.000Z",
    "+275760-09-13T00:00:00.001Z",
    "9999-12-31T23:59:59Z",
    "2099-01-01",
    "2099-01-01T00:00:00+14:00",
    "tomorrow",
    "",
    1e12,
    null,
    ABSENT,
  ].map((value): Field => ["expires_at", value]),
  ...[true, false, "true", 1, null, ABSENT].map((value): Field => ["admin", value]),
  ...[{ secret: "AAAA" }, { status: "revoked" }, { created_at: "1970-01-01T00:00:00Z" }, { constructor: { prototype: { admin: true } } }].map((extra): Field => ["extra", extra]),
];

/**
 * Whole bodies: other JSON, broken JSON, sizes around the 64 KiB cap, and objects only JSON text can spell (a
 * `__proto__` member, a repeated member). `pass` means: as the route's model judges the parsed value.
 */
const WHOLE_BODIES: [text: string, deserves: string][] = [
  ["[]", "400 bad_request"],
  ['"x"', "400 bad_request"],
  ["1", "400 bad_request"],
  ["null", "400 bad_request"],
  ["", "400 bad_request"],
  ["{", "400 bad_request"],
  ['{"alg":"hmac-sha256","scopes":[],}', "400 bad_request"],
  ["{'alg':'hmac-sha256'}", "400 bad_request"],
  ['\uFEFF{"alg":"hmac-sha256","scopes":[]}', "400 bad_request"],
  ["[".repeat(50_000), "400 bad_request"],
  ['{"__proto__":{"admin":true},"alg":"hmac-sha256","scopes":[],"keyid":"{keyid}"}', "pass"],
  ['{"alg":"ed25519","alg":"hmac-sha256","scopes":[],"keyid":"{keyid}"}', "pass"],
  ['{"key":"fuzz/p","__proto__":{"mode":"storage","single_use":true}}', "pass"],
  ["{pad:65536}", "pass"],
  ["{pad:65537}", "413 too_large"],
  ["{pad:200000}", "413 too_large"],
];

const PRESIGN_FIELDS: Field[] = [
  ...[
    "fuzz/p",
    "fuzz/missing",
    "other/p",
    "",
    "a//b",
    "./x",
    "x/..",
    "a\\b",
    "a\u0000b",
    "\u00e9".repeat(257),
    `fuzz/${"a".repeat(MAX_KEY_BYTES - 5)}`,
    `fuzz/${"a".repeat(MAX_KEY_BYTES - 4)}`,
    5,
    null,
    ["fuzz/p"],
    ABSENT,
  ].map((value): Field => ["key", value]),
  ...[1, PRESIGN_MAX_SECONDS, 300, 0, PRESIGN_MAX_SECONDS + 1, -5, 1.5, "60", null, 1e21, true, ABSENT].map((value): Field => ["expires_in", value]),
  ...[true, false, "true", 1, null, ABSENT].map((value): Field => ["single_use", value]),
  ...["gateway", "storage", "GATEWAY", "", null, 1, ABSENT].map((value): Field => ["mode", value]),
  ...[{ url: "http://elsewhere.example/" }, { kid: "wire-admin" }, { version: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }].map((extra): Field => ["extra", extra]),
];

const bodyCase = (fields: Field[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.constantFrom(...fields), { maxLength: 2 }).map((mutations) => ({ mutations })) },
    { weight: 1, arbitrary: fc.constantFrom(...WHOLE_BODIES).map(([text, deserves]) => ({ text, deserves })) },
  );

/** Applies `mutations` to `base`: each sets, removes (ABSENT) or adds (`extra`) fields. */
function mutate(base: Record<string, unknown>, mutations: Field[]): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base };
  for (const [name, value] of mutations) {
    if (name === "extra") Object.assign(body, value);
    else if (value === ABSENT) delete body[name];
    else body[name] = value;
  }
  return body;
}

const utf8Bytes = (text: string) => Buffer.byteLength(text);

/** POST /v1/keys (PROTOCOL section 5) for an admin: every way the body can be invalid is 400, a taken keyid 409. */
function deservedKey(body: unknown, taken: ReadonlySet<string>, nowMs: number): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "400 bad_request";
  const input = body as Record<string, unknown>;
  const { alg, scopes, expires_at: expiresAt, admin, public_key: publicKey } = input;
  if (alg !== "ed25519" && alg !== "hmac-sha256") return "400 bad_request";
  const scopeValid = (scope: unknown) => {
    if (typeof scope !== "object" || scope === null) return false;
    const { prefix, actions } = scope as { prefix?: unknown; actions?: unknown };
    return typeof prefix === "string" && utf8Bytes(prefix) <= MAX_PREFIX_BYTES && Array.isArray(actions) && actions.every((action) => (ACTIONS as readonly unknown[]).includes(action));
  };
  if (!Array.isArray(scopes) || scopes.length > MAX_SCOPES || !scopes.every(scopeValid)) return "400 bad_request";
  if (expiresAt !== undefined && expiresAt !== null) {
    const ms = typeof expiresAt === "string" ? Date.parse(expiresAt) : Number.NaN;
    if (Number.isNaN(ms) || ms <= nowMs) return "400 bad_request";
  }
  if (admin !== undefined && typeof admin !== "boolean") return "400 bad_request";
  if (alg === "ed25519" && (typeof publicKey !== "string" || !/^[A-Za-z0-9+/_-]{43}=?$/.test(publicKey))) return "400 bad_request";
  if (alg === "hmac-sha256" && publicKey !== undefined) return "400 bad_request";
  const keyid = input.keyid ?? (alg === "ed25519" ? "{thumbprint}" : undefined);
  if (keyid === "{thumbprint}") return "201";
  if (typeof keyid !== "string" || !/^[A-Za-z0-9._:-]{1,128}$/.test(keyid)) return "400 bad_request";
  return taken.has(keyid) ? "409 already_exists" : "201";
}

/** POST /v1/presign (PROTOCOL section 4): parse, key rules, scopes, the object, then the mode. */
function deservedLink(body: unknown, user: boolean, exists: (key: string) => boolean): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "400 bad_request";
  const { key, expires_in: expiresIn = 300, single_use: singleUse = false, mode = "gateway" } = body as Record<string, unknown>;
  if (typeof key !== "string") return "400 bad_request";
  if (!Number.isSafeInteger(expiresIn) || (expiresIn as number) < 1 || (expiresIn as number) > PRESIGN_MAX_SECONDS) return "400 bad_request";
  if (typeof singleUse !== "boolean" || (mode !== "gateway" && mode !== "storage") || (mode === "storage" && singleUse)) return "400 bad_request";
  const keyBytes = utf8Bytes(key);
  if (keyBytes < 1 || keyBytes > MAX_KEY_BYTES || /[\u0000-\u001f\u007f-\u009f\\]/.test(key) || key.split("/").some((part) => ["", ".", ".."].includes(part))) {
    return "400 invalid_key_name";
  }
  if (user && !key.startsWith(FUZZ_SCOPE_PREFIX)) return "403 forbidden";
  if (!exists(key)) return "404 not_found";
  return mode === "storage" ? "403 presign_storage_disabled" : "200";
}

/** The JSON bodies of POST /v1/keys and POST /v1/presign on both builds, and whether what they create works. */
describe.concurrent.each(RUNTIMES)("on %s", (runtime, start) => {
  let gateway: GatewayHarness;
  let keys: KeyFixtures;
  const taken = new Set<string>();
  const linked = new Map<string, Uint8Array>([
    ["fuzz/p", new TextEncoder().encode("presigned")],
    ["other/p", new TextEncoder().encode("other")],
  ]);

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET });
    keys = await keyFixtures(gateway);
    for (const signer of Object.values(keys)) if (signer.keyid !== keys.unknown.keyid) taken.add(signer.keyid);
    for (const [key, body] of linked) {
      const put = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body: new Uint8Array(body) });
      if (put.status !== 201) throw new Error(`fixture ${key}: ${put.status}`);
    }
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  async function post(target: string, text: string, signer: Signer): Promise<{ request: FuzzRequest; answer: Answer }> {
    const body = new TextEncoder().encode(text);
    const headers = await gateway.signedHeaders("POST", target, { as: signer, signedBody: body, headers: { "Content-Type": "application/json" } });
    const request = { method: "POST", target, headers, body };
    return { request, answer: await exchange(gateway, request) };
  }

  /** The JSON text of a whole-body case: `{pad:N}` is a valid request padded to N bytes. */
  function wholeText(text: string, base: Record<string, unknown>): string {
    const pad = /^\{pad:(\d+)\}$/.exec(text);
    if (!pad) return text.replace("{keyid}", `fuzz-${crypto.randomUUID()}`);
    const bare = JSON.stringify({ ...base, pad: "" });
    return JSON.stringify({ ...base, pad: "x".repeat(Math.max(0, Number(pad[1]) - utf8Bytes(bare))) });
  }

  it.sequential(`validates every POST /v1/keys body as the contract says, and every key it creates signs; never a 5xx (${KEY_RUNS} cases, seeded)`, async () => {
    const cases = fc.record({ alg: fc.constantFrom("ed25519", "hmac-sha256"), body: bodyCase(KEY_FIELDS), user: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) });
    await fc.assert(
      fc.asyncProperty(cases, async ({ alg, body: testCase, user }) => {
        const pair = await newEd25519Key();
        const randomKey = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
        const base = { keyid: `fuzz-${crypto.randomUUID()}`, alg, ...(alg === "ed25519" ? { public_key: pair.publicKey } : {}), scopes: [{ prefix: FUZZ_SCOPE_PREFIX, actions: ["read"] }] };
        const now = Date.now();
        const fill = (value: unknown): unknown =>
          typeof value !== "string"
            ? value
            : {
                "{keyid}": `fuzz-${crypto.randomUUID()}`,
                "{taken}": keys.revoked.keyid,
                "{pk}": pair.publicKey,
                "{random-pk}": randomKey,
                "{pk}=": `${pair.publicKey}=`,
                "{pk-std}": pair.publicKey.replace(/-/g, "+").replace(/_/g, "/"),
                "{pk-short}": pair.publicKey.slice(0, -1),
                "{pk-long}": `${pair.publicKey}A`,
                "{future}": new Date(now + DAY_MS).toISOString(),
                "{past}": new Date(now - DAY_MS).toISOString(),
              }[value] ?? value;
        const text =
          "text" in testCase ? wholeText(testCase.text, base) : JSON.stringify(mutate(base, testCase.mutations.map(([name, value]): Field => [name, fill(value)])));
        const { request, answer } = await post("/v1/keys", text, user ? keys.user : keys.admin);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const deserves = user ? "403 forbidden" : "text" in testCase && testCase.deserves !== "pass" ? testCase.deserves : deservedKey(parsed, taken, now);
        expectAnswer(runtime, request, answer, deserve(answer, deserves));
        if (answer.status !== 201) return;
        const record = JSON.parse(Buffer.from(answer.body).toString()) as Record<string, unknown>;
        taken.add(String(record.keyid));
        await expectUsable(record, parsed as Record<string, unknown>, pair.privateKey);
      }),
      fuzzParameters(KEY_RUNS),
    );
  }, FUZZ_TIMEOUT_MS);

  /**
   * A created key signs: a hmac key with the secret it was given, an ed25519 key with the private half when the suite
   * holds it. A key whose public half no one holds (32 random bytes) is refused a forged signature, as 401.
   */
  async function expectUsable(record: Record<string, unknown>, input: Record<string, unknown>, privateKey: CryptoKey): Promise<void> {
    const keyid = String(record.keyid);
    const held = record.alg === "hmac-sha256" ? { alg: "hmac-sha256" as const, secret: fromBase64(String(record.secret)) } : { alg: "ed25519" as const, privateKey };
    const signer: Signer = { keyid, key: held };
    const target = "/v1/whoami";
    const headers = await gateway.signedHeaders("GET", target, { as: signer });
    const request: FuzzRequest = { method: "GET", target, headers };
    const answer = await exchange(gateway, request);
    const canSign = record.alg === "hmac-sha256" || String(record.public_key) === (await publicKeyOf(privateKey));
    const deserves = canSign ? "200" : "401 signature_invalid";
    const whoami = answer.status === 200 ? (JSON.parse(Buffer.from(answer.body).toString()) as Record<string, unknown>) : {};
    const same = answer.status !== 200 || (whoami.keyid === keyid && whoami.admin === (input.admin === true));
    expectAnswer(runtime, request, answer, [
      ...deserve(answer, deserves),
      ...(same ? [] : [`whoami of ${keyid} says ${JSON.stringify(whoami)}`]),
    ]);
  }

  async function publicKeyOf(privateKey: CryptoKey): Promise<string> {
    const jwk = await crypto.subtle.exportKey("jwk", privateKey);
    return String(jwk.x);
  }

  it.sequential(`validates every POST /v1/presign body as the contract says, and every link it makes serves; never a 5xx (${PRESIGN_RUNS} cases, seeded)`, async () => {
    const cases = fc.record({ body: bodyCase(PRESIGN_FIELDS), user: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(cases, async ({ body: testCase, user }) => {
        const base = { key: "fuzz/p" };
        const text = "text" in testCase ? wholeText(testCase.text, base) : JSON.stringify(mutate(base, testCase.mutations));
        const sentAt = Math.floor(Date.now() / 1000);
        const { request, answer } = await post("/v1/presign", text, user ? keys.user : keys.admin);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const deserves = "text" in testCase && testCase.deserves !== "pass" ? testCase.deserves : deservedLink(parsed, user, (key) => linked.has(key));
        expectAnswer(runtime, request, answer, deserve(answer, deserves));
        if (answer.status === 200) await expectServes(JSON.parse(Buffer.from(answer.body).toString()) as Record<string, unknown>, parsed as Record<string, unknown>, sentAt);
      }),
      fuzzParameters(PRESIGN_RUNS),
    );
  }, FUZZ_TIMEOUT_MS);

  /** A link made serves the object's bytes with the integrity block it was given, once when single-use, and expires when it says. */
  async function expectServes(answer: Record<string, unknown>, input: Record<string, unknown>, sentAt: number): Promise<void> {
    const bytes = linked.get(String(input.key)) ?? new Uint8Array();
    const expiresIn = typeof input.expires_in === "number" ? input.expires_in : 300;
    const expiresAt = Date.parse(String(answer.expires_at)) / 1000;
    const integrity = answer.integrity as Record<string, unknown>;
    const url = new URL(String(answer.url));
    const problems = [
      ...(Math.abs(expiresAt - (sentAt + expiresIn)) <= EXPIRY_SLACK_SECONDS ? [] : [`expires_at ${String(answer.expires_at)} for expires_in ${expiresIn}`]),
      ...(integrity.sha256 === sha256Hex(bytes) && integrity.size === bytes.length ? [] : [`integrity ${JSON.stringify(integrity)}`]),
      ...(url.origin === gateway.origin && url.pathname.startsWith("/v1/dl/") ? [] : [`url ${url.href}`]),
    ];
    const uses = input.single_use === true ? ["200", "410 link_used"] : ["200"];
    for (const deserves of uses) {
      const request: FuzzRequest = { method: "GET", target: url.pathname, headers: {} };
      const served = await exchange(gateway, request);
      const same = served.status !== 200 || Buffer.from(served.body).equals(Buffer.from(bytes));
      expectAnswer(runtime, request, served, [...problems, ...deserve(served, deserves), ...(same ? [] : ["the link served other bytes"])]);
    }
  }
});
