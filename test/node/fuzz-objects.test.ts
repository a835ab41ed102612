import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
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
  outcome,
} from "./support/fuzz.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness, Signer } from "./support/wire.ts";

/** Cases per build: a key case is a PUT and, when it is stored, a GET of it. */
const KEY_RUNS = 100;
const LIST_RUNS = 100;
/** PROTOCOL section 3. */
const MAX_KEY_BYTES = 512;
const ROUTE = "/v1/objects/";
/** Objects every listing case can find, inside the user key's scope and outside it. */
const LISTED = ["fuzz/list/a", "fuzz/list/b/c", "fuzz/list/\u00e9t\u00e9", "fuzz/list/\u{1F600}", "other/list/x"];

/** Pieces of a raw path segment: plain text, multibyte UTF-8, and the encodings and characters key rules are about. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{1,10}$/) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }).map(encodeURIComponent) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      ...["%2F", "%2f", "%2e", "%2E%2E", ".", "..", "%00", "%0A", "%1F", "%7F", "%C2%80", "%C2%9F", "%5C", "%zz", "%", "%E2%82", "%ED%A0%80"],
      ...["%F0%9F%98", "%C0%AF", "%E0%80%AF", "%EF%BF%BF", "%F4%8F%BF%BF", "%252e", "%25", "+", "%20", "%3F", "%23", "'", "(", ")", "*", "!", "$"],
      ...["&", "=", ";", ",", ":", "@", "~", "[", "]", "\\", "|", "{", "^"],
    ),
  },
);
const segment = fc.array(piece, { maxLength: 3 }).map((pieces) => pieces.join(""));
const shortKey = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => segments.join("/"));
/** Keys around the 512-byte limit, of one-byte to four-byte characters, percent-encoded. */
const longKey = fc
  .record({ bytes: fc.oneof(fc.integer({ min: 500, max: 520 }), fc.integer({ min: 1, max: 700 })), unit: fc.constantFrom("a", "%C3%A9", "%E2%82%AC", "%F0%9F%98%80") })
  .map(({ bytes, unit }) => {
    const unitBytes = unit.length === 1 ? 1 : unit.length / 3;
    return `fuzz/${unit.repeat(Math.max(1, Math.ceil((bytes - 5) / unitBytes)))}`;
  });
const keyPart = fc.oneof({ weight: 3, arbitrary: shortKey }, { weight: 1, arbitrary: shortKey.map((key) => `fuzz/${key}`) }, { weight: 2, arbitrary: longKey });
/** The route itself, spelled as it should be or with the spellings that once shifted the key (issue #10, finding 5). */
const route = fc.oneof(
  { weight: 12, arbitrary: fc.constant(ROUTE) },
  { weight: 1, arbitrary: fc.constantFrom("/v1/%6Fbjects/", "/v1/obj%65cts/", "/v1/objects/%2F", "/v1/objects//", "/v1//objects/", "/V1/objects/", "/v1/objects/./", "/v1/x/../objects/") },
);
const querySuffix = fc.constantFrom("", "", "", "?x=1", "?", "?key=other");

/** The key a raw key path names, decoded once and checked by the rules of PROTOCOL section 3; null when it names none. */
function modelKey(raw: string): string | null {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    return null;
  }
  const bytes = Buffer.byteLength(key);
  if (bytes < 1 || bytes > MAX_KEY_BYTES || /[\u0000-\u001f\u007f-\u009f\\]/.test(key)) return null;
  return key.split("/").some((part) => part === "" || part === "." || part === "..") ? null : key;
}

/** Percent-decodes once, keeping malformed escapes as they are. */
function lenientDecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/** How a query value is decoded by the gateway's router (Hono): `+` is a space, then percent-decoding. */
const queryValue = (text: string) => lenientDecode(text.replace(/\+/g, " "));

/** Object keys and list prefixes on both builds: percent-encoding, multibyte, long and dot-segment keys, signed as sent. */
describe.concurrent.each(RUNTIMES)("on %s", (runtime, start) => {
  let gateway: GatewayHarness;
  let keys: KeyFixtures;
  /** Cursors of real listings, to replay on other prefixes and to damage. */
  const cursors: string[] = [];

  beforeAll(async () => {
    gateway = await start();
    keys = await keyFixtures(gateway);
    for (const key of LISTED) {
      const put = await gateway.signedFetch("PUT", `${ROUTE}${encodeURI(key)}`, { body: new TextEncoder().encode(key) });
      if (put.status !== 201) throw new Error(`fixture ${key}: ${put.status}`);
    }
    for (const prefix of ["fuzz/list/", "other/", ""]) {
      const page = await gateway.signedFetch("GET", `/v1/objects?prefix=${encodeURIComponent(prefix)}&limit=1`);
      const { cursor } = (await page.json()) as { cursor: string | null };
      if (cursor) cursors.push(cursor);
    }
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  async function signed(signer: Signer, method: string, target: string, body?: Uint8Array): Promise<FuzzRequest> {
    const headers = await gateway.signedHeaders(method, target, { as: signer, ...(body ? { signedBody: body } : {}) });
    return { method, target, headers, ...(body ? { body } : {}) };
  }

  it.sequential(`stores and serves exactly the key each raw path names, or refuses it; never a 5xx (${KEY_RUNS} cases, seeded)`, async () => {
    const cases = fc.record({ route, key: keyPart, query: querySuffix, user: fc.boolean(), bytes: fc.uint8Array({ maxLength: 64 }) });
    await fc.assert(
      fc.asyncProperty(cases, async ({ route: prefix, key: raw, query, user, bytes }) => {
        const signer = user ? keys.user : keys.admin;
        const target = `${prefix}${raw}${query}`;
        const put = await signed(signer, "PUT", target, bytes);
        const answer = await exchange(gateway, put);
        const stored = answer.status === 201 ? String((JSON.parse(Buffer.from(answer.body).toString()) as { key: unknown }).key) : undefined;
        expectAnswer(runtime, put, answer, putViolations(target, prefix, raw, user, answer, stored));
        if (stored === undefined || prefix !== ROUTE) return;
        const get = await signed(signer, "GET", target);
        const read = await exchange(gateway, get);
        const same = read.status === 200 && Buffer.from(read.body).equals(Buffer.from(bytes));
        expectAnswer(runtime, get, read, same ? [] : [`the key stored by ${target} reads back ${outcome(read)}, ${read.body.length} bytes`]);
      }),
      fuzzParameters(KEY_RUNS),
    );
  }, FUZZ_TIMEOUT_MS);

  /**
   * What a PUT to `target` deserves. A target the runtime leaves as sent (WHATWG-normal) on the route as spelled is
   * judged exactly: the key decoded once, or 400 invalid_key_name, or 403 outside the user's scope. Any other target
   * may be refused in any well-formed way, but what it stores must be a valid key its raw or normalised path names.
   */
  function putViolations(target: string, prefix: string, raw: string, user: boolean, answer: Answer, stored: string | undefined): string[] {
    const path = target.split("?")[0] ?? "";
    const normalised = new URL(target, gateway.origin).pathname;
    if (prefix === ROUTE && normalised === path) {
      const key = modelKey(raw);
      const deserves = key === null ? "400 invalid_key_name" : user && !key.startsWith(FUZZ_SCOPE_PREFIX) ? "403 forbidden" : "201";
      return [...deserve(answer, deserves), ...(stored === undefined || stored === key ? [] : [`stored key ${JSON.stringify(stored)}, the path names ${JSON.stringify(key)}`])];
    }
    if (stored === undefined) return [];
    const named = [path, normalised].some((candidate) => lenientDecode(candidate) === `${ROUTE}${stored}`);
    return named && modelKey(encodeURIComponent(stored)) !== null ? [] : [`stored key ${JSON.stringify(stored)}, which ${target} does not name`];
  }

  it.sequential(`lists only keys under the prefix asked and the caller's scope, or refuses; never a 5xx (${LIST_RUNS} cases, seeded)`, async () => {
    const prefix = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom("", "fuzz/", "fuzz/list/", "fuzz/list/b", "other/", "o", "f", "fuzz/list/%C3%A9", "fuzz%2Flist%2F", "fuzz/list/+") },
      { weight: 3, arbitrary: keyPart },
    );
    const limit = fc.constantFrom(undefined, "1", "2", "100", "1000", "1001", "0", "-1", "01", "1e3", "", "abc", "99999", "%201");
    const cursor = fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.nat().map((index) => ({ real: index })) },
      { weight: 2, arbitrary: fc.record({ real: fc.nat(), cut: fc.nat() }) },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text })) },
      { weight: 1, arbitrary: fc.constantFrom("", "null", "eyJwayI6Im0jb2JqIiwic2siOiJvYmo6b3RoZXIvbGlzdC94In0", "x".repeat(3000)).map((text) => ({ text })) },
    );
    await fc.assert(
      fc.asyncProperty(fc.record({ prefix, limit, cursor, user: fc.boolean() }), async ({ prefix, limit, cursor, user }) => {
        const signer = user ? keys.user : keys.admin;
        const cursorText =
          cursor === undefined ? undefined : "text" in cursor ? cursor.text : cutCursor(cursors[cursor.real % Math.max(1, cursors.length)] ?? "", "cut" in cursor ? cursor.cut : undefined);
        const query = [`prefix=${prefix}`, ...(limit === undefined ? [] : [`limit=${limit}`]), ...(cursorText === undefined ? [] : [`cursor=${encodeURIComponent(cursorText)}`])];
        const target = `/v1/objects?${query.join("&")}`;
        const list = await signed(signer, "GET", target);
        const answer = await exchange(gateway, list);
        // A query the runtime re-encodes (WHATWG) no longer matches its signature.
        const reencoded = new URL(target, gateway.origin).search !== target.slice(target.indexOf("?"));
        const violations = reencoded && outcome(answer) === "401 signature_invalid" ? [] : listViolations(queryValue(prefix.split("&")[0] ?? ""), limit, cursor, user, answer);
        expectAnswer(runtime, list, answer, violations);
      }),
      fuzzParameters(LIST_RUNS),
    );
  }, FUZZ_TIMEOUT_MS);

  function cutCursor(cursor: string, cut: number | undefined): string {
    if (cut === undefined) return cursor;
    const at = cut % (cursor.length + 1);
    return cut % 2 === 0 ? cursor.slice(0, at) : `${cursor.slice(0, at)}${cursor[at] === "A" ? "B" : "A"}${cursor.slice(at + 1)}`;
  }

  /**
   * What a listing deserves. Whatever it answers, a 200 lists only current keys under the prefix asked that the
   * caller may list. A limit outside 1..1000 is 400; a user asking outside `fuzz/` is 403 (narrowed to `fuzz/`
   * when the prefix is above it). A damaged or foreign cursor may be refused (400) or read, but never widens
   * the listing.
   */
  function listViolations(prefix: string, limit: string | undefined, cursor: unknown, user: boolean, answer: Answer): string[] {
    const within = !user || prefix.startsWith(FUZZ_SCOPE_PREFIX) || FUZZ_SCOPE_PREFIX.startsWith(prefix);
    const limitValid = limit === undefined || (/^\d{1,4}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 1000);
    if (!within) return deserve(answer, "403 forbidden");
    if (!limitValid) return deserve(answer, "400 bad_request");
    if (answer.status !== 200) return deserve(answer, cursor === undefined ? "200" : ["200", "400 bad_request"]);
    const { objects, cursor: next } = JSON.parse(Buffer.from(answer.body).toString()) as { objects: { key: string }[]; cursor: string | null };
    const listed = objects.map((object) => object.key);
    const outside = listed.filter((key) => !key.startsWith(user && !prefix.startsWith(FUZZ_SCOPE_PREFIX) ? FUZZ_SCOPE_PREFIX : prefix) || (user && !key.startsWith(FUZZ_SCOPE_PREFIX)));
    if (outside.length > 0) return [`listed ${JSON.stringify(outside)} for prefix ${JSON.stringify(prefix)}`];
    if (limit !== undefined && listed.length > Number(limit)) return [`listed ${listed.length} objects with limit ${limit}`];
    const missed = LISTED.filter((key) => key.startsWith(prefix) && (!user || key.startsWith(FUZZ_SCOPE_PREFIX)) && !listed.includes(key));
    return cursor === undefined && next === null && missed.length > 0 ? [`a last page without ${JSON.stringify(missed)}`] : [];
  }
});
