import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type LinkClaims, issueLinkToken } from "../../shared/presign/token.ts";
import { randomBytes, sha256Hex } from "./support/bytes.ts";
import {
  type Answer,
  FUZZ_PRESIGN_SECRET,
  FUZZ_SCOPE_PREFIX,
  FUZZ_TIMEOUT_MS,
  type FuzzRequest,
  type KeyFixtures,
  deserve,
  exchange,
  expectAnswer,
  fuzzParameters,
  jsonBytes,
  keyFixtures,
  outcome,
} from "./support/fuzz.ts";
import {
  CHUNK,
  EMPTY_RANGE,
  FORGED,
  SIZE,
  type Validator,
  damaged,
  deservedRange,
  rangeHeader,
  readsAsToken,
  tokenDamage,
  validator,
} from "./support/fuzz-download-cases.ts";
import { ROUTE, keyPart, lenientDecode, modelKey, queryValue, querySuffix, route } from "./support/fuzz-object-cases.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness, Signer } from "./support/wire.ts";

/** Cases per build of each property: a key case is a PUT and, when it is stored, a GET of it. */
const KEY_RUNS = 80;
const LIST_RUNS = 120;
const RANGE_RUNS = 150;
const LINK_RUNS = 320;
/** PROTOCOL section 4. */
const LINK_SECONDS = 300;
const LINK_PREFIX = "/v1/dl/";
/** Objects every listing case can find, inside the user key's scope and outside it. */
const LISTED = ["fuzz/list/a", "fuzz/list/b/c", "fuzz/list/\u00e9t\u00e9", "fuzz/list/\u{1F600}", "other/list/x"];

/**
 * The object routes and downloads on every build: keys and list prefixes from raw paths signed as sent, Range and
 * validators on objects and links alike, and damaged or forged link tokens.
 */
describe.concurrent.each(RUNTIMES)("on %s", (runtime, start) => {
  let gateway: GatewayHarness;
  let keys: KeyFixtures;
  /** Cursors of real listings, to replay on other prefixes and to damage. */
  const cursors: string[] = [];
  const ranged = { whole: { key: "fuzz/range", bytes: randomBytes(SIZE) }, empty: { key: "fuzz/empty", bytes: new Uint8Array() } } as const;
  const links: Record<keyof typeof ranged, string> = { whole: "", empty: "" };
  /** The token of the link to `fuzz/range`, and the versions a forged token can name. */
  let token = "";
  let version = "";
  let otherVersion = "";

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET: FUZZ_PRESIGN_SECRET, CHUNK_SIZE_BYTES: String(CHUNK) });
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
    for (const [name, { key, bytes }] of Object.entries(ranged)) {
      const put = await gateway.signedFetch("PUT", `${ROUTE}${key}`, { body: new Uint8Array(bytes) });
      if (put.status !== 201) throw new Error(`fixture ${key}: ${put.status}`);
      const stored = String(((await put.json()) as { version: string }).version);
      if (name === "whole") version = stored;
      else otherVersion = stored;
      const presigned = await gateway.signedFetch("POST", "/v1/presign", {
        body: jsonBytes({ key, expires_in: LINK_SECONDS }),
        headers: { "content-type": "application/json" },
      });
      if (presigned.status !== 200) throw new Error(`presigning ${key}: ${presigned.status}`);
      links[name as keyof typeof ranged] = new URL(String(((await presigned.json()) as { url: string }).url)).pathname;
    }
    token = links.whole.slice(LINK_PREFIX.length);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  async function signed(signer: Signer, method: string, target: string, body?: Uint8Array): Promise<FuzzRequest> {
    const headers = await gateway.signedHeaders(method, target, { as: signer, ...(body ? { signedBody: body } : {}) });
    return { method, target, headers, ...(body ? { body } : {}) };
  }

  it.sequential(
    `stores and serves exactly the key each raw path names, or refuses it; never a 5xx (${KEY_RUNS} cases, seeded)`,
    async () => {
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
    },
    FUZZ_TIMEOUT_MS,
  );

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
      return [
        ...deserve(answer, deserves),
        ...(stored === undefined || stored === key ? [] : [`stored key ${JSON.stringify(stored)}, the path names ${JSON.stringify(key)}`]),
      ];
    }
    if (stored === undefined) return [];
    const named = [path, normalised].some((candidate) => lenientDecode(candidate) === `${ROUTE}${stored}`);
    return named && modelKey(encodeURIComponent(stored)) !== null ? [] : [`stored key ${JSON.stringify(stored)}, which ${target} does not name`];
  }

  it.sequential(
    `lists only keys under the prefix asked and the caller's scope, or refuses; never a 5xx (${LIST_RUNS} cases, seeded)`,
    async () => {
      const prefix = fc.oneof(
        {
          weight: 3,
          arbitrary: fc.constantFrom("", "fuzz/", "fuzz/list/", "fuzz/list/b", "other/", "o", "f", "fuzz/list/%C3%A9", "fuzz%2Flist%2F", "fuzz/list/+"),
        },
        { weight: 3, arbitrary: keyPart },
      );
      const limit = fc.constantFrom(undefined, "1", "2", "100", "1000", "1001", "0", "-1", "01", "1e3", "", "abc", "99999", "%201");
      const cursor = fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.nat().map((index) => ({ real: index })) },
        { weight: 2, arbitrary: fc.record({ real: fc.nat(), cut: fc.nat() }) },
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text })) },
        {
          weight: 1,
          arbitrary: fc.constantFrom("", "null", "eyJwayI6Im0jb2JqIiwic2siOiJvYmo6b3RoZXIvbGlzdC94In0", "x".repeat(3000)).map((text) => ({ text })),
        },
      );
      await fc.assert(
        fc.asyncProperty(fc.record({ prefix, limit, cursor, user: fc.boolean() }), async ({ prefix, limit, cursor, user }) => {
          const signer = user ? keys.user : keys.admin;
          const cursorText =
            cursor === undefined
              ? undefined
              : "text" in cursor
                ? cursor.text
                : cutCursor(cursors[cursor.real % Math.max(1, cursors.length)] ?? "", "cut" in cursor ? cursor.cut : undefined);
          const query = [
            `prefix=${prefix}`,
            ...(limit === undefined ? [] : [`limit=${limit}`]),
            ...(cursorText === undefined ? [] : [`cursor=${encodeURIComponent(cursorText)}`]),
          ];
          const target = `/v1/objects?${query.join("&")}`;
          const list = await signed(signer, "GET", target);
          const answer = await exchange(gateway, list);
          // A query the runtime re-encodes (WHATWG) no longer matches its signature.
          const reencoded = new URL(target, gateway.origin).search !== target.slice(target.indexOf("?"));
          const violations =
            reencoded && outcome(answer) === "401 signature_invalid" ? [] : listViolations(queryValue(prefix.split("&")[0] ?? ""), limit, cursor, user, answer);
          expectAnswer(runtime, list, answer, violations);
        }),
        fuzzParameters(LIST_RUNS),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

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
    const outside = listed.filter(
      (key) => !key.startsWith(user && !prefix.startsWith(FUZZ_SCOPE_PREFIX) ? FUZZ_SCOPE_PREFIX : prefix) || (user && !key.startsWith(FUZZ_SCOPE_PREFIX)),
    );
    if (outside.length > 0) return [`listed ${JSON.stringify(outside)} for prefix ${JSON.stringify(prefix)}`];
    if (limit !== undefined && listed.length > Number(limit)) return [`listed ${listed.length} objects with limit ${limit}`];
    const missed = LISTED.filter((key) => key.startsWith(prefix) && (!user || key.startsWith(FUZZ_SCOPE_PREFIX)) && !listed.includes(key));
    return cursor === undefined && next === null && missed.length > 0 ? [`a last page without ${JSON.stringify(missed)}`] : [];
  }

  const etag = (body: Uint8Array) => `"${sha256Hex(body)}"`;
  const validatorText = (kind: Validator, body: Uint8Array): string | undefined =>
    kind === undefined
      ? undefined
      : { etag: etag(body), "weak-etag": `W/${etag(body)}`, "other-etag": `"${"0".repeat(64)}"`, star: "*", date: new Date().toUTCString() }[kind];

  it.sequential(
    `serves every Range as RFC 9110 says, on objects and links alike, byte-exact; never a 5xx (${RANGE_RUNS} cases, seeded)`,
    async () => {
      const cases = fc.record({
        via: fc.constantFrom<"object" | "link">("object", "link"),
        which: fc.constantFrom<keyof typeof ranged>("whole", "whole", "whole", "empty"),
        method: fc.constantFrom("GET", "GET", "HEAD"),
        range: rangeHeader,
        ifNoneMatch: validator,
        ifRange: validator,
      });
      await fc.assert(
        fc.asyncProperty(cases, async ({ via, which, method, range, ifNoneMatch, ifRange }) => {
          const body = ranged[which].bytes;
          const conditional = {
            ...(range === undefined ? {} : { Range: range }),
            ...(ifNoneMatch === undefined ? {} : { "If-None-Match": validatorText(ifNoneMatch, body) ?? "" }),
            ...(ifRange === undefined ? {} : { "If-Range": validatorText(ifRange, body) ?? "" }),
          };
          const target = via === "object" ? `${ROUTE}${ranged[which].key}` : links[which];
          const headers = via === "object" ? await gateway.signedHeaders(method, target, { headers: conditional }) : conditional;
          const request: FuzzRequest = { method, target, headers };
          const answer = await exchange(gateway, request);
          expectAnswer(runtime, request, answer, rangeViolations(method, answer, body, deservedRange(range, body.length, ifNoneMatch, ifRange)));
        }),
        fuzzParameters(RANGE_RUNS),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

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

  it.sequential(
    `answers every damaged or forged link token 404 or 410, and only genuine ones with the bytes; never a 5xx (${LINK_RUNS} cases, seeded)`,
    async () => {
      const cases = fc.oneof(
        { weight: 3, arbitrary: fc.record({ method: fc.constantFrom("GET", "HEAD", "GET", "DELETE", "POST"), damage: tokenDamage }) },
        { weight: 1, arbitrary: fc.record({ method: fc.constantFrom("GET", "HEAD"), forged: fc.constantFrom(...FORGED) }) },
      );
      await fc.assert(
        fc.asyncProperty(cases, async (testCase) => {
          const { method } = testCase;
          const sent = "forged" in testCase ? await forge(testCase.forged[0]) : damaged(token, links.empty.slice(LINK_PREFIX.length), testCase.damage);
          const request: FuzzRequest = { method, target: `${LINK_PREFIX}${sent}`, headers: {} };
          const answer = await exchange(gateway, request);
          // `/v1/dl/` with no token, or with a slash in it, is no link route: it is signed like the rest of /v1 (finding 11).
          // A token of `.` or `..` is a dot segment: the URL resolves to another route, which must refuse it its own way.
          const segment = sent.split(/[?#]/)[0] ?? "";
          const dotSegment = /^\.{1,2}$/.test(segment);
          const linkRoute = segment !== "" && !segment.includes("/");
          const deserves = dotSegment
            ? "refused"
            : !linkRoute
              ? "401 signature_missing"
              : "forged" in testCase
                ? testCase.forged[1]
                : readsAsToken(sent, token)
                  ? "200"
                  : "404 not_found";
          const served = answer.status === 200 && method === "GET" && !Buffer.from(answer.body).equals(Buffer.from(ranged.whole.bytes));
          expectAnswer(runtime, request, answer, [
            // Only GET and HEAD of a link go unsigned: any other method is a signed route like the rest of /v1 (issue #10, finding 11).
            ...deserve(answer, method === "GET" || method === "HEAD" || dotSegment ? deserves : "401 signature_missing"),
            ...(served ? ["served bytes that are not the object's"] : []),
          ]);
        }),
        fuzzParameters(LINK_RUNS),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  async function forge(overrides: Record<string, unknown>): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { key: ranged.whole.key, version, exp: now + LINK_SECONDS, kid: keys.admin.keyid };
    for (const [name, value] of Object.entries(overrides)) {
      claims[name] =
        value === "past"
          ? now - 10
          : value === "soon"
            ? String(now + 60)
            : value === "{fresh}"
              ? crypto.randomUUID()
              : typeof value === "string"
                ? value.replace("{version}", version).replace("{other}", otherVersion)
                : value;
    }
    return issueLinkToken(claims as unknown as LinkClaims, FUZZ_PRESIGN_SECRET);
  }
});
