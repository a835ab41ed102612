import fc from "fast-check";
import { ACTIONS } from "../../../shared/keys/index.ts";
import { FUZZ_SCOPE_PREFIX } from "./fuzz.ts";
import { MAX_KEY_BYTES, keyFollowsRules } from "./fuzz-object-cases.ts";

/**
 * The cases of the JSON body fuzz properties: valid bodies of POST /v1/keys and POST /v1/presign with fields
 * mutated, whole bodies that are something else, and what each deserves by the contract (PROTOCOL sections 4, 5).
 */

/** PROTOCOL section 7 and functions/middleware/body.ts. */
const PRESIGN_MAX_SECONDS = 3600;
const MAX_JSON_BODY_BYTES = 64 * 1024;
const MAX_SCOPES = 64;
const MAX_PREFIX_BYTES = 512;

/** A field left out of the body. */
const ABSENT = Symbol("absent");
export type Field = [name: string, value: unknown];

/**
 * Field values, some as placeholders filled at send time: `{keyid}` a fresh keyid, `{pk}` the public half of a key
 * the suite holds, `{random-pk}` 32 random bytes (no one holds a private key for them, and they need not be a curve
 * point), `{future}`/`{past}` a day from now, `{taken}` a keyid that exists.
 */
export const KEY_FIELDS: Field[] = [
  ...["{keyid}", "{taken}", "k".repeat(128), "k".repeat(129), "", "a b", "a/b", "caf\u00e9", "key:x", "a.b_c:d-e", 5, null, ["x"], {}, ABSENT].map(
    (value): Field => ["keyid", value],
  ),
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
  ...[{ secret: "AAAA" }, { status: "revoked" }, { created_at: "1970-01-01T00:00:00Z" }, { constructor: { prototype: { admin: true } } }].map(
    (extra): Field => ["extra", extra],
  ),
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
  [`{pad:${MAX_JSON_BODY_BYTES}}`, "pass"],
  [`{pad:${MAX_JSON_BODY_BYTES + 1}}`, "413 too_large"],
  ["{pad:200000}", "413 too_large"],
];

export const PRESIGN_FIELDS: Field[] = [
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

export const bodyCase = (fields: Field[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.constantFrom(...fields), { maxLength: 2 }).map((mutations) => ({ mutations })) },
    { weight: 1, arbitrary: fc.constantFrom(...WHOLE_BODIES).map(([text, deserves]) => ({ text, deserves })) },
  );

/** Applies `mutations` to `base`: each sets, removes (ABSENT) or adds (`extra`) fields. */
export function mutate(base: Record<string, unknown>, mutations: Field[]): Record<string, unknown> {
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
export function deservedKey(body: unknown, taken: ReadonlySet<string>, nowMs: number): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "400 bad_request";
  const input = body as Record<string, unknown>;
  const { alg, scopes, expires_at: expiresAt, admin, public_key: publicKey } = input;
  if (alg !== "ed25519" && alg !== "hmac-sha256") return "400 bad_request";
  const scopeValid = (scope: unknown) => {
    if (typeof scope !== "object" || scope === null) return false;
    const { prefix, actions } = scope as { prefix?: unknown; actions?: unknown };
    return (
      typeof prefix === "string" &&
      utf8Bytes(prefix) <= MAX_PREFIX_BYTES &&
      Array.isArray(actions) &&
      actions.every((action) => (ACTIONS as readonly unknown[]).includes(action))
    );
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
export function deservedLink(body: unknown, user: boolean, exists: (key: string) => boolean): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "400 bad_request";
  const { key, expires_in: expiresIn = 300, single_use: singleUse = false, mode = "gateway" } = body as Record<string, unknown>;
  if (typeof key !== "string") return "400 bad_request";
  if (!Number.isSafeInteger(expiresIn) || (expiresIn as number) < 1 || (expiresIn as number) > PRESIGN_MAX_SECONDS) return "400 bad_request";
  if (typeof singleUse !== "boolean" || (mode !== "gateway" && mode !== "storage") || (mode === "storage" && singleUse)) return "400 bad_request";
  if (!keyFollowsRules(key)) return "400 invalid_key_name";
  if (user && !key.startsWith(FUZZ_SCOPE_PREFIX)) return "403 forbidden";
  if (!exists(key)) return "404 not_found";
  return mode === "storage" ? "403 presign_storage_disabled" : "200";
}
