import { ERROR_CODES, type ErrorCode } from "../shared/errors/index.ts";
import { statusAndTitle } from "../shared/errors/problem.ts";
import { ACTIONS } from "../shared/keys/index.ts";
import { LFS_TOKEN_DEFAULT_SECONDS, LFS_TOKEN_MAX_SECONDS, LFS_TOKEN_MIN_SECONDS } from "../shared/lfs/tokens.ts";
import { VERSION } from "../shared/version.ts";

/**
 * The OpenAPI 3.1 description of every route, header, status and problem code, served at `GET /openapi.json`.
 * Written by hand, beside the routes it describes, because it is the HTTP contract (docs/PROTOCOL.md) made
 * machine-readable rather than a by-product of the routes: `test/node/openapi.test.ts` validates it and checks
 * real responses of both builds against it, so it cannot drift from what the gateway answers.
 *
 * Each operation lists the problem codes it can answer with; they are grouped into responses by the status
 * `shared/errors/problem.ts` maps them to, so a code's status is stated in one place only. The Problem schema
 * lists `ERROR_CODES` itself, and the test fails until a new code is answered by some operation.
 */

/** A JSON Schema or a `$ref`; the validator in `npm test` judges the shape, the type only keeps it JSON. */
type Schema = { readonly [keyword: string]: unknown };
type Ref = { $ref: string };
type Response = { description: string; headers?: Record<string, Ref>; content?: Record<string, { schema: Schema }> };
type Responses = Record<string, Response | Ref>;

const ref = (section: "schemas" | "parameters" | "headers" | "responses", name: string): Ref => ({ $ref: `#/components/${section}/${name}` });

const SHA256_HEX = { type: "string", pattern: "^[0-9a-f]{64}$", description: "SHA-256, lowercase hex." } as const;
const ENTITY_TAG = { type: "string", pattern: '^"[0-9a-f]{64}"$', description: "The object's SHA-256 in quotes: a strong entity tag." } as const;
const TIMESTAMP = { type: "string", format: "date-time" } as const;
const BYTE_COUNT = { type: "integer", minimum: 0 } as const;
/** Manifest records by the deployment key id they depend on (PROTOCOL section 5, "Encryption key rotation"). */
const KID_COUNTS = { type: "object", additionalProperties: { type: "integer", minimum: 0 } } as const;
const NULLABLE_TIMESTAMP = { oneOf: [TIMESTAMP, { type: "null" }] } as const;

/**
 * Any request: an unexpected failure, and on the Node server (Lambda's local stand-in and `npm run
 * start:aws-local`) the refusals of Node's HTTP parser, sent before any route runs.
 */
const ANY_ROUTE: ErrorCode[] = ["internal", "bad_request", "request_timeout", "headers_too_large"];
/** Routes mounted after the configuration guard and the per-client rate limit (all but /healthz and /openapi.json). */
const GUARDED: ErrorCode[] = [...ANY_ROUTE, "misconfigured", "rate_limited"];
/** Signed routes: the checks of PROTOCOL section 1 in order, the replay claim, and the per-key rate limit. */
const SIGNED: ErrorCode[] = [
  ...GUARDED,
  "malformed_signature",
  "digest_missing",
  "signature_missing",
  "signature_expired",
  "signature_not_yet_valid",
  "signature_invalid",
  "replayed_request",
  "replay_store_unavailable",
];
/** Object transfers and link downloads, charged against the in-flight budget before any other check but the guard's. */
const BUDGETED: ErrorCode[] = ["overloaded"];
/** Signed routes with a JSON body: hashed against the signed digest before parsing, capped at 64 KiB. */
const SIGNED_JSON: ErrorCode[] = [...SIGNED, "digest_mismatch", "too_large"];

/** Headers some problem statuses carry besides X-Request-Id. */
const PROBLEM_HEADERS: Partial<Record<number, Record<string, Ref>>> = {
  416: { "Content-Range": ref("headers", "Content-Range-Unsatisfied") },
  429: { "Retry-After": ref("headers", "Retry-After") },
  503: { "Retry-After": ref("headers", "Retry-After-Overloaded") },
};

/** The problem responses of an operation, one per status, each naming exactly the codes it may carry. */
function problems(codes: readonly ErrorCode[]): Responses {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const [status] = statusAndTitle(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Responses = {};
  for (const [status, members] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: members.map((code) => `\`${code}\`: ${statusAndTitle(code)[1]}`).join("; "),
      headers: { "X-Request-Id": ref("headers", "X-Request-Id"), ...PROBLEM_HEADERS[status] },
      content: {
        "application/problem+json": {
          schema: {
            type: "object",
            allOf: [ref("schemas", "Problem")],
            properties: {
              status: { const: status },
              code: { enum: members },
            },
          },
        },
      },
    };
  }
  return responses;
}

const PROBLEM_REQUIRED = ["type", "title", "status", "code", "request_id"];
/** The members of every error body: problem+json's, which git-lfs's error bodies on `/lfs/` carry too. */
const PROBLEM_PROPERTIES = {
  type: { type: "string", pattern: "^urn:verigate:error:[a-z_]+$", description: "`urn:verigate:error:<code>`." },
  title: { type: "string" },
  status: { type: "integer", minimum: 400, maximum: 599, description: "The response's status." },
  code: { type: "string", enum: ERROR_CODES },
  request_id: { type: "string", format: "uuid", description: "The response's `X-Request-Id`." },
  detail: { type: "string", description: "What to change, when that is safe to say (a limit, a field, the action refused)." },
} as const;

/** The git-lfs media type: LFS requests, answers and errors (PROTOCOL section 8). */
const LFS_JSON = "application/vnd.git-lfs+json";

/**
 * The problem responses of an LFS operation: the same codes and statuses as `problems`, in git-lfs's error body (the
 * problem members plus `message` and `documentation_url`), and every 401 with `LFS-Authenticate`.
 */
function lfsProblems(codes: readonly ErrorCode[]): Responses {
  const responses: Responses = {};
  for (const [status, response] of Object.entries(problems(codes)) as [string, Response][]) {
    const schema = response.content?.["application/problem+json"]?.schema ?? {};
    const headers = status === "401" ? { ...response.headers, "LFS-Authenticate": ref("headers", "LFS-Authenticate") } : response.headers;
    responses[status] = {
      ...response,
      ...(headers ? { headers } : {}),
      content: { [LFS_JSON]: { schema: { ...schema, allOf: [ref("schemas", "LfsProblem")] } } },
    };
  }
  return responses;
}

/** LfsProblem's members: the problem members plus git-lfs's, which the 409 of a lock create carries too (with the existing `lock`). */
const LFS_PROBLEM_PROPERTIES = { ...PROBLEM_PROPERTIES, message: { type: "string" }, documentation_url: { type: "string", format: "uri" } } as const;
const LFS_PROBLEM_REQUIRED = [...PROBLEM_REQUIRED, "message", "documentation_url"];
const LFS_LOCK_CURSOR = { type: "string", description: "The path of the page's last lock; present exactly when more locks follow." } as const;
/** The lock routes: behind LFS Basic auth (401), for one repository (404 for a malformed name), JSON in and out. */
const LFS_LOCKING: ErrorCode[] = [...GUARDED, "unauthorized", "not_found", "not_acceptable"];
const LFS_REPO_PARAMETER = { name: "repo", in: "path", required: true, schema: { type: "string" } };

function lfsJsonBody(schema: Schema) {
  return {
    required: true,
    description: "At most 64 KiB, as `application/vnd.git-lfs+json` (a charset tolerated) or `application/json`.",
    content: { [LFS_JSON]: { schema } },
  };
}

function lfsJson(description: string, schema: Schema): Response {
  return { description, headers: { "X-Request-Id": ref("headers", "X-Request-Id") }, content: { [LFS_JSON]: { schema } } };
}

/** The repository and action token of the routes LFS actions point at. */
const LFS_ACTION_PARAMETERS = [
  { name: "repo", in: "path", required: true, schema: { type: "string" } },
  { name: "token", in: "path", required: true, schema: { type: "string" }, description: "The action token: MAC'd claims, logged only as a hash." },
];
/** Checked on every use of an action href: its MAC (404), expiry (410) and that its LFS token still holds (410). */
const LFS_ACTION: ErrorCode[] = [...GUARDED, "not_found", "link_expired", "link_revoked"];

function json(description: string, schema: Schema): Response {
  return { description, headers: { "X-Request-Id": ref("headers", "X-Request-Id") }, content: { "application/json": { schema } } };
}

function empty(description: string): Response {
  return { description, headers: { "X-Request-Id": ref("headers", "X-Request-Id") } };
}

function jsonBody(schema: Schema) {
  return {
    required: true,
    description: "At most 64 KiB. Its Content-Digest is signed and checked before the JSON is parsed.",
    content: { "application/json": { schema } },
  };
}

const SIGNED_PARAMETERS = [ref("parameters", "Signature-Input")];
const SIGNED_BODY_PARAMETERS = [...SIGNED_PARAMETERS, ref("parameters", "Content-Digest")];
/** An operation's empty security list lifts the document-wide signature requirement. */
const UNSIGNED: [] = [];

/** The conditional and range headers of a GET or HEAD of one object version (objects and links alike). */
const READ_PARAMETERS = [ref("parameters", "If-None-Match"), ref("parameters", "Range"), ref("parameters", "If-Range")];

/** What a GET of an object version answers; a HEAD answers the same statuses and headers with no body. */
const READ_RESPONSES: Responses = {
  "200": ref("responses", "Object"),
  "206": ref("responses", "ObjectRange"),
  "304": ref("responses", "NotModified"),
};

const KEY_RECORD_PROPERTIES: Record<string, Schema> = {
  keyid: ref("schemas", "Keyid"),
  alg: ref("schemas", "Algorithm"),
  public_key: { type: "string", pattern: "^[A-Za-z0-9_-]{43}$", description: "ed25519 only: the raw 32-byte public key, base64url." },
  scopes: { type: "array", items: ref("schemas", "Scope") },
  admin: { type: "boolean" },
  status: { type: "string", enum: ["active", "revoked"] },
  created_at: { ...TIMESTAMP, description: "`1970-01-01T00:00:00.000Z` for a bootstrap key from `ADMIN_KEYS`." },
  expires_at: TIMESTAMP,
};
const KEY_RECORD_REQUIRED = ["keyid", "alg", "scopes", "admin", "status", "created_at"];

const LFS_TOKEN_PROPERTIES: Record<string, Schema> = {
  id: { type: "string", pattern: "^[0-9a-f]{24}$" },
  repo: ref("schemas", "LfsRepo"),
  access: { type: "string", enum: ["read", "write"] },
  keyid: { type: "string", description: "The key that minted the token." },
  created_at: TIMESTAMP,
  expires_at: TIMESTAMP,
};
const LFS_TOKEN_REQUIRED = ["id", "repo", "access", "keyid", "created_at", "expires_at"];

/** What the create answer and the status share (PROTOCOL "Upload sessions"). */
const UPLOAD_PROPERTIES: Record<string, Schema> = {
  upload_id: { type: "string", pattern: "^[0-9A-HJKMNP-TV-Z]{26}$" },
  key: { type: "string" },
  size: BYTE_COUNT,
  sha256: SHA256_HEX,
  chunk_size: { type: "integer", minimum: 1, description: "The verification chunk the object gets." },
  part_size: {
    type: "integer",
    minimum: 1,
    description: "Every part but the last is exactly this many bytes; part n is bytes [(n-1)*part_size, n*part_size).",
  },
  part_count: { type: "integer", minimum: 1, maximum: 10000 },
  expires_at: { ...TIMESTAMP, description: "After it the session is 404 and swept with its parts." },
  direct_parts: { type: "boolean", description: "Parts may go straight to storage (`POST .../parts/{part}/presign`)." },
};

export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "Verigate",
    version: VERSION,
    summary: "Serves and accepts files without trusting the storage behind it.",
    description:
      "Every `/v1/` request but a gateway link is signed (RFC 9421, see the `httpMessageSignature` scheme). Every " +
      "error is `application/problem+json` (RFC 9457, the `Problem` schema) and every response carries `X-Request-Id`. " +
      "408 `request_timeout` and 431 `headers_too_large` come only from the Node server, before any route runs. The full " +
      "contract, with the order of checks and the configuration, is docs/PROTOCOL.md in the repository.",
    license: { name: "Apache-2.0", identifier: "Apache-2.0" },
  },
  tags: [
    { name: "health", description: "Unauthenticated status and this document." },
    { name: "keys", description: "The key registry (admin keys only), PROTOCOL section 5." },
    { name: "objects", description: "Verified uploads and downloads, PROTOCOL section 3." },
    { name: "links", description: "Presigned downloads, PROTOCOL section 4." },
    { name: "lfs", description: "Git LFS: the batch API, transfers and file locks, PROTOCOL section 8." },
    { name: "uploads", description: 'Upload sessions: large objects in parts, verified whole before they exist (PROTOCOL "Upload sessions").' },
  ],
  security: [{ httpMessageSignature: [] }],
  paths: {
    "/healthz": {
      get: {
        operationId: "health",
        tags: ["health"],
        summary: "Status, version, runtime and backends; no secrets",
        description: "Open to monitors: answered before the configuration guard and the rate limit.",
        security: UNSIGNED,
        responses: {
          "200": json("Configured and serving.", {
            type: "object",
            allOf: [ref("schemas", "Health")],
            properties: { status: { const: "ok" }, problems: false },
          }),
          "503": json("Misconfigured: every other route answers 503 `misconfigured`. `problems` names the variables at fault, never their values.", {
            type: "object",
            allOf: [ref("schemas", "Health")],
            properties: { status: { const: "misconfigured" }, problems: true },
            required: ["problems"],
          }),
          ...problems(ANY_ROUTE),
        },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openapi",
        tags: ["health"],
        summary: "This document",
        description: "Answered before the configuration guard and the rate limit, like /healthz.",
        security: UNSIGNED,
        responses: {
          "200": json("The OpenAPI 3.1 document.", {
            type: "object",
            required: ["openapi", "info", "paths"],
            properties: { openapi: { type: "string", pattern: "^3\\.1\\." }, info: { type: "object" }, paths: { type: "object" } },
          }),
          ...problems(ANY_ROUTE),
        },
      },
    },
    "/v1/whoami": {
      get: {
        operationId: "whoami",
        tags: ["keys"],
        summary: "The caller's key: checks a client's clock, key and signing code at once",
        description: "Any valid signature. In `AUTH_MODE=soft` a request whose authentication failed answers as `unauthenticated`.",
        parameters: SIGNED_PARAMETERS,
        responses: { "200": json("The signing key.", ref("schemas", "Whoami")), ...problems(SIGNED) },
      },
    },
    "/v1/keys": {
      post: {
        operationId: "createKey",
        tags: ["keys"],
        summary: "Create a key (admin)",
        parameters: SIGNED_BODY_PARAMETERS,
        requestBody: jsonBody(ref("schemas", "NewKey")),
        responses: {
          "201": json("The new record; for `hmac-sha256` it holds the generated `secret`, which is never returned again.", ref("schemas", "CreatedKey")),
          ...problems([...SIGNED_JSON, "forbidden", "already_exists"]),
        },
      },
      get: {
        operationId: "listKeys",
        tags: ["keys"],
        summary: "Every key record, bootstrap keys included (admin)",
        parameters: SIGNED_PARAMETERS,
        responses: { "200": json("Key records sorted by keyid, never a secret.", ref("schemas", "KeyList")), ...problems([...SIGNED, "forbidden"]) },
      },
    },
    "/v1/keys/{keyid}": {
      parameters: [ref("parameters", "keyid")],
      get: {
        operationId: "getKey",
        tags: ["keys"],
        summary: "One key record, active or revoked (admin)",
        parameters: SIGNED_PARAMETERS,
        responses: { "200": json("The record, never a secret.", ref("schemas", "KeyRecord")), ...problems([...SIGNED, "forbidden", "not_found"]) },
      },
      delete: {
        operationId: "revokeKey",
        tags: ["keys"],
        summary: "Revoke a key (admin)",
        description: "The record stays, revoked, so the keyid is never reused; the key's gateway links answer 410 `link_revoked`.",
        parameters: SIGNED_PARAMETERS,
        responses: { "204": empty("Revoked."), ...problems([...SIGNED, "forbidden", "not_found"]) },
      },
    },
    "/v1/lfs/tokens": {
      post: {
        operationId: "createLfsToken",
        tags: ["lfs"],
        summary: "Mint an LFS token for one repository (admin, or a key whose scopes cover `lfs/<repo>/`)",
        description:
          "A read token needs `read` on `lfs/<repo>/`, a write token `read` and `write`. The token is the HTTP Basic password " +
          "of the `/lfs/{repo}/...` routes, returned this once; the gateway keeps only the SHA-256 of its secret. It stops " +
          "working when it expires, is revoked, or its minting key can no longer sign or no longer covers the repository.",
        parameters: SIGNED_BODY_PARAMETERS,
        requestBody: jsonBody(ref("schemas", "LfsTokenRequest")),
        responses: {
          "201": json("The new token and the `lfs.url` to use it with.", ref("schemas", "CreatedLfsToken")),
          ...problems([...SIGNED_JSON, "forbidden"]),
        },
      },
      get: {
        operationId: "listLfsTokens",
        tags: ["lfs"],
        summary: "LFS tokens: every one for an admin key, else those the caller minted",
        parameters: [...SIGNED_PARAMETERS, { name: "repo", in: "query", description: "Only this repository's tokens.", schema: ref("schemas", "LfsRepo") }],
        responses: { "200": json("Tokens, never a secret.", ref("schemas", "LfsTokenList")), ...problems(SIGNED) },
      },
    },
    "/v1/lfs/tokens/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      delete: {
        operationId: "revokeLfsToken",
        tags: ["lfs"],
        summary: "Revoke an LFS token (admin, or the key that minted it)",
        description: "Another key's token is 404, as an unknown one: its existence is not revealed.",
        parameters: SIGNED_PARAMETERS,
        responses: { "204": empty("Revoked."), ...problems([...SIGNED, "not_found"]) },
      },
    },
    "/v1/admin/encryption/rewrap": {
      post: {
        operationId: "rewrap",
        tags: ["keys"],
        summary: "Start or resume the encryption rewrap pass and do one bounded slice of it (admin)",
        description:
          "Re-wraps data keys and re-signs manifests under the current `ENCRYPTION_KEYS` key, at most 100 manifests or 20 s per call; " +
          "signs unsigned legacy manifests only while `UNSIGNED_MANIFESTS=read`. The body is `{}`. 503 `misconfigured` without `ENCRYPTION_KEYS`.",
        parameters: SIGNED_BODY_PARAMETERS,
        requestBody: jsonBody({ type: "object", maxProperties: 0 }),
        responses: { "200": json("Progress after the slice.", ref("schemas", "RewrapProgress")), ...problems([...SIGNED_JSON, "forbidden"]) },
      },
      get: {
        operationId: "rewrapProgress",
        tags: ["keys"],
        summary: "The rewrap pass's progress, without working (admin)",
        parameters: SIGNED_PARAMETERS,
        responses: { "200": json("Progress.", ref("schemas", "RewrapProgress")), ...problems([...SIGNED, "forbidden"]) },
      },
    },
    "/v1/objects": {
      get: {
        operationId: "listObjects",
        tags: ["objects"],
        summary: "Current objects under a prefix, in key order (list)",
        description:
          "Only keys the caller may list. A prefix broader than the caller's one list scope under it narrows to that scope; " +
          "one spanning several list scopes is 400 `bad_request`.",
        parameters: [...SIGNED_PARAMETERS, ref("parameters", "prefix"), ref("parameters", "limit"), ref("parameters", "cursor")],
        responses: { "200": json("One page.", ref("schemas", "ObjectList")), ...problems([...SIGNED, ...BUDGETED, "forbidden", "integrity_failure"]) },
      },
    },
    "/v1/objects/{key}": {
      parameters: [ref("parameters", "key")],
      put: {
        operationId: "putObject",
        tags: ["objects"],
        summary: "Upload a new version (write)",
        description:
          "Streamed to storage while hashed per chunk and whole; the version becomes visible only once the whole body " +
          "matched the signed Content-Digest and the preconditions still hold. A failed upload leaves the previous version readable.",
        parameters: [...SIGNED_BODY_PARAMETERS, ref("parameters", "Content-Length"), ref("parameters", "If-None-Match-Create"), ref("parameters", "If-Match")],
        requestBody: {
          required: true,
          description: "The object's bytes. Its Content-Type (default `application/octet-stream`) is stored and served back.",
          content: { "*/*": { schema: {} } },
        },
        responses: {
          "201": json("Stored and current.", ref("schemas", "PutResult")),
          ...problems([
            ...SIGNED,
            ...BUDGETED,
            "invalid_key_name",
            "forbidden",
            "digest_mismatch",
            "already_exists",
            "precondition_failed",
            "length_required",
            "too_large",
            "integrity_failure",
          ]),
        },
      },
      get: {
        operationId: "getObject",
        tags: ["objects"],
        summary: "Download, every chunk verified against the manifest before any of its bytes is sent (read)",
        description:
          "A mismatch found before the first byte is 502 `integrity_failure`; one found later ends the body short of its " +
          "Content-Length, so no unverified byte reaches the client.",
        parameters: [...SIGNED_PARAMETERS, ...READ_PARAMETERS],
        responses: {
          ...READ_RESPONSES,
          ...problems([...SIGNED, ...BUDGETED, "invalid_key_name", "forbidden", "not_found", "range_not_satisfiable", "integrity_failure"]),
        },
      },
      head: {
        operationId: "headObject",
        tags: ["objects"],
        summary: "The headers a GET would answer, with no body (read)",
        parameters: [...SIGNED_PARAMETERS, ...READ_PARAMETERS],
        responses: {
          ...READ_RESPONSES,
          ...problems([...SIGNED, ...BUDGETED, "invalid_key_name", "forbidden", "not_found", "range_not_satisfiable", "integrity_failure"]),
        },
      },
      delete: {
        operationId: "deleteObject",
        tags: ["objects"],
        summary: "Delete (delete)",
        description: "The bytes stay for a grace period of an hour so readers holding the old manifest finish.",
        parameters: SIGNED_PARAMETERS,
        responses: { "204": empty("Deleted."), ...problems([...SIGNED, "invalid_key_name", "forbidden", "not_found", "integrity_failure"]) },
      },
    },
    "/v1/presign": {
      post: {
        operationId: "presign",
        tags: ["links"],
        summary: "A download link for the current version of a key (presign and read)",
        description:
          "`gateway` links serve through `/v1/dl/{token}`, verified. `storage` URLs point at the bucket and bypass the " +
          "gateway's verification: the recipient must check the bytes against `integrity`. They are off unless the operator " +
          "set `PRESIGN_STORAGE=on` (else 403 `presign_storage_disabled`). Without `PRESIGN_SECRET` the answer is 503 `misconfigured`.",
        parameters: SIGNED_BODY_PARAMETERS,
        requestBody: jsonBody(ref("schemas", "PresignRequest")),
        responses: {
          "200": json("The link and what its bytes must hash to.", ref("schemas", "PresignResult")),
          ...problems([...SIGNED_JSON, "invalid_key_name", "forbidden", "presign_storage_disabled", "not_found", "integrity_failure"]),
        },
      },
    },
    "/v1/plans": {
      post: {
        operationId: "plan",
        tags: ["links"],
        summary: "A direct download plan: chunk digests and a presigned storage URL for a window of a version (presign and read)",
        description:
          "For the whole chunks covering `offset`..`offset + length` (to the end by default), at most 1024 per answer " +
          "(`next_offset` says where a cut window stops): their SHA-256, read and checked by the gateway, and a presigned " +
          "storage GET of the version's blob. The client fetches byte ranges of `url` itself and checks every chunk before " +
          "keeping a byte of it. Without `version` the current one; with it, that version as a gateway link would serve it " +
          "(404 once swept or once the key was deleted after it). Off unless the operator set `PRESIGN_STORAGE=on` (else 403 " +
          "`presign_storage_disabled`); 503 `misconfigured` while a storage presign setting is missing. A tree page that fails " +
          "its check is 502 `integrity_failure`.",
        parameters: SIGNED_BODY_PARAMETERS,
        requestBody: jsonBody(ref("schemas", "PlanRequest")),
        responses: {
          "200": json("The window's digests and the URL to fetch its bytes from.", ref("schemas", "Plan")),
          ...problems([...SIGNED_JSON, "invalid_key_name", "forbidden", "presign_storage_disabled", "not_found", "range_not_satisfiable", "integrity_failure"]),
        },
      },
    },
    "/lfs/{repo}/objects/batch": {
      parameters: [{ name: "repo", in: "path", required: true, schema: { type: "string" } }],
      post: {
        operationId: "lfsBatch",
        tags: ["lfs"],
        summary: "The Git LFS batch API (git-lfs docs/api/batch.md)",
        description:
          "HTTP Basic with an LFS token as the password (any user name). Per object: actions on this gateway (a verified " +
          "download pinned to the current version; a single-use upload and a verify), or for an upload above one request, " +
          "when `PRESIGN_STORAGE=on`, a presigned storage PUT with signed checksum headers and a verify; or a per-object error " +
          "(404 missing, 422 invalid oid or size, a size that disagrees, or no upload path). An upload of an object the " +
          "repository holds has no actions. Uploads need a write token (403). 409 for a `hash_algo` other than sha256, 413 " +
          "above 100 objects, 406 for an Accept naming no JSON, 503 `misconfigured` without `PRESIGN_SECRET`.",
        security: UNSIGNED,
        parameters: [ref("parameters", "Authorization-Basic")],
        requestBody: {
          required: true,
          description: "At most 64 KiB.",
          content: { [LFS_JSON]: { schema: ref("schemas", "LfsBatchRequest") }, "application/json": { schema: ref("schemas", "LfsBatchRequest") } },
        },
        responses: {
          "200": lfsJson("Actions or an error per object.", ref("schemas", "LfsBatchResponse")),
          ...lfsProblems([...GUARDED, "unauthorized", "forbidden", "not_found", "not_acceptable", "unsupported_hash_algo", "too_large"]),
        },
      },
    },
    "/lfs/{repo}/download/{token}": {
      parameters: LFS_ACTION_PARAMETERS,
      get: {
        operationId: "lfsDownload",
        tags: ["lfs"],
        summary: "An LFS download action: the object's version pinned at batch time, verified as GET /v1/objects/{key}",
        description: "Not single-use, so an interrupted download resumes with Range. A version that is gone or not the oid's bytes is 404.",
        security: UNSIGNED,
        parameters: READ_PARAMETERS,
        responses: { ...READ_RESPONSES, ...lfsProblems([...LFS_ACTION, ...BUDGETED, "range_not_satisfiable", "integrity_failure"]) },
      },
      head: {
        operationId: "lfsHeadDownload",
        tags: ["lfs"],
        summary: "The headers a GET of the download action would answer",
        security: UNSIGNED,
        parameters: READ_PARAMETERS,
        responses: { ...READ_RESPONSES, ...lfsProblems([...LFS_ACTION, ...BUDGETED, "range_not_satisfiable"]) },
      },
    },
    "/lfs/{repo}/upload/{token}": {
      parameters: LFS_ACTION_PARAMETERS,
      put: {
        operationId: "lfsUpload",
        tags: ["lfs"],
        summary: "An LFS upload action: the body, hashed while it streams, committed only when it is the oid's bytes",
        description:
          "Single-use: the first request spends it (410 `link_used` after). Content-Length must be the object's size. A body " +
          "whose SHA-256 is not the oid is 400 `digest_mismatch` and commits nothing. An object already present answers 200 unread.",
        security: UNSIGNED,
        responses: {
          "200": empty("The object is committed (or was already present)."),
          ...lfsProblems([...LFS_ACTION, ...BUDGETED, "link_used", "length_required", "digest_mismatch", "too_large", "replay_store_unavailable"]),
        },
      },
    },
    "/lfs/{repo}/verify/{token}": {
      parameters: LFS_ACTION_PARAMETERS,
      post: {
        operationId: "lfsVerify",
        tags: ["lfs"],
        summary: "An LFS verify action: 200 only once the repository holds the object, committed from bytes that hashed to its oid",
        description:
          "After a storage upload, reads the stored bytes back, hashes them per chunk and whole, and commits only on a match; " +
          "concurrent verifies commit once. 404 when nothing was uploaded, 400 `digest_mismatch` when the uploaded bytes are " +
          "not the object (they are discarded). The body git-lfs sends (`oid`, `size`) is not needed: the token names both.",
        security: UNSIGNED,
        responses: {
          "200": lfsJson("The object is committed.", ref("schemas", "LfsObjectId")),
          ...lfsProblems([...LFS_ACTION, "digest_mismatch"]),
        },
      },
    },
    "/lfs/{repo}/locks": {
      parameters: [LFS_REPO_PARAMETER],
      post: {
        operationId: "lfsCreateLock",
        tags: ["lfs"],
        summary: "Lock a path for the caller (git-lfs docs/api/locking.md, Create Lock)",
        description:
          "A write token. The owner is the keyid that minted the token. Of clients racing for one path exactly one gets 201; " +
          "the others 409 `lock_exists` with the existing lock. A path that is empty, absolute, holds NUL or is longer than " +
          "1,024 bytes of UTF-8 is 400 `bad_request`.",
        security: UNSIGNED,
        requestBody: lfsJsonBody(ref("schemas", "LfsLockRequest")),
        responses: {
          "201": lfsJson("The new lock.", ref("schemas", "LfsLockCreated")),
          ...lfsProblems([...LFS_LOCKING, "forbidden", "too_large"]),
          "409": {
            description: "`lock_exists`: the path is locked; `lock` is the existing lock.",
            headers: { "X-Request-Id": ref("headers", "X-Request-Id") },
            content: {
              [LFS_JSON]: {
                schema: { type: "object", allOf: [ref("schemas", "LfsLockExists")], properties: { status: { const: 409 }, code: { enum: ["lock_exists"] } } },
              },
            },
          },
        },
      },
      get: {
        operationId: "lfsListLocks",
        tags: ["lfs"],
        summary: "List the repository's locks in path order (git-lfs docs/api/locking.md, List Locks)",
        description: "A read or write token. Paths sort by the bytes of their UTF-8.",
        security: UNSIGNED,
        parameters: [
          { name: "path", in: "query", description: "Only the lock of this path.", schema: ref("schemas", "LfsLockPath") },
          { name: "id", in: "query", description: "Only the lock with this id.", schema: { type: "string" } },
          { name: "cursor", in: "query", description: "A `next_cursor`: the page starts after it.", schema: LFS_LOCK_CURSOR },
          { name: "limit", in: "query", description: "Default 100; above 100 served as 100.", schema: { type: "integer", minimum: 1 } },
          { name: "refspec", in: "query", description: "Tolerated and unused.", schema: { type: "string" } },
        ],
        responses: { "200": lfsJson("A page of locks.", ref("schemas", "LfsLockList")), ...lfsProblems(LFS_LOCKING) },
      },
    },
    "/lfs/{repo}/locks/verify": {
      parameters: [LFS_REPO_PARAMETER],
      post: {
        operationId: "lfsVerifyLocks",
        tags: ["lfs"],
        summary: "A page of locks split into the caller's and everyone else's (git-lfs docs/api/locking.md, List Locks for Verification)",
        description: "A write token: git-lfs asks before a push, which a lock in `theirs` on a pushed file halts.",
        security: UNSIGNED,
        requestBody: lfsJsonBody(ref("schemas", "LfsLockVerifyRequest")),
        responses: {
          "200": lfsJson("A page of locks.", ref("schemas", "LfsLockVerifyList")),
          ...lfsProblems([...LFS_LOCKING, "forbidden", "too_large"]),
        },
      },
    },
    "/lfs/{repo}/locks/{id}/unlock": {
      parameters: [LFS_REPO_PARAMETER, { name: "id", in: "path", required: true, schema: { type: "string" } }],
      post: {
        operationId: "lfsUnlock",
        tags: ["lfs"],
        summary: "Remove a lock (git-lfs docs/api/locking.md, Delete Lock)",
        description:
          "A write token. Another owner's lock is 403 `forbidden` unless `force` is true, which any write token may send. " +
          "An unknown id (or one of another repository) is 404 `not_found`.",
        security: UNSIGNED,
        requestBody: lfsJsonBody(ref("schemas", "LfsUnlockRequest")),
        responses: {
          "200": lfsJson("The removed lock.", ref("schemas", "LfsLockCreated")),
          ...lfsProblems([...LFS_LOCKING, "forbidden", "too_large"]),
        },
      },
    },
    "/v1/dl/{token}": {
      parameters: [ref("parameters", "token")],
      get: {
        operationId: "download",
        tags: ["links"],
        summary: "Download through a gateway link: the pinned version, verified as GET /v1/objects/{key}",
        description:
          "No signature: the token's MAC is the authority. A damaged or unknown token, or a pinned version that is gone, is 404. " +
          "A single-use link is spent by its first GET.",
        security: UNSIGNED,
        parameters: READ_PARAMETERS,
        responses: {
          ...READ_RESPONSES,
          ...problems([
            ...GUARDED,
            ...BUDGETED,
            "not_found",
            "link_expired",
            "link_used",
            "link_revoked",
            "range_not_satisfiable",
            "integrity_failure",
            "replay_store_unavailable",
          ]),
        },
      },
      head: {
        operationId: "headDownload",
        tags: ["links"],
        summary: "The headers a GET of the link would answer; does not spend a single-use link",
        security: UNSIGNED,
        parameters: READ_PARAMETERS,
        responses: {
          ...READ_RESPONSES,
          ...problems([...GUARDED, ...BUDGETED, "not_found", "link_expired", "link_revoked", "range_not_satisfiable", "integrity_failure"]),
        },
      },
    },
    "/v1/uploads": {
      post: {
        operationId: "createUpload",
        tags: ["uploads"],
        summary: "Open an upload session for a new version of a key (write)",
        description:
          "The declared size is checked before anything is created (413 `too_large` naming `MAX_UPLOAD_SESSION_BYTES`). " +
          "`If-None-Match: *` and `If-Match` are checked now for an early refusal and enforced by the commit at complete.",
        parameters: [...SIGNED_BODY_PARAMETERS, ref("parameters", "If-None-Match-Create"), ref("parameters", "If-Match")],
        requestBody: jsonBody(ref("schemas", "NewUpload")),
        responses: {
          "201": {
            ...json("The session: how to cut the object into parts, and until when it lives.", ref("schemas", "Upload")),
            headers: { "X-Request-Id": ref("headers", "X-Request-Id"), Location: ref("headers", "Location-Upload") },
          },
          ...problems([...SIGNED_JSON, "invalid_key_name", "forbidden", "already_exists", "precondition_failed", "integrity_failure"]),
        },
      },
    },
    // A trailing path parameter matches the rest of the path (as `{key}` does), so longer templates come first.
    "/v1/uploads/{upload_id}/parts/{part}/presign": {
      parameters: [ref("parameters", "upload_id"), ref("parameters", "part")],
      post: {
        operationId: "presignPart",
        tags: ["uploads"],
        summary: "A presigned S3 UploadPart URL for part N, bound to its SHA-256 and size (write)",
        description:
          "Available when the session's `direct_parts` is true: always on the AWS builds, on Workers with `PRESIGN_STORAGE=on` " +
          "(else 403 `presign_storage_disabled`; 503 `misconfigured` while a storage presign setting is missing). Send every " +
          "header of `headers` as given: the checksum is a signed header, and storage refuses a part that does not match it.",
        parameters: SIGNED_BODY_PARAMETERS,
        requestBody: jsonBody(ref("schemas", "PartDigest")),
        responses: {
          "200": json("The URL and the headers to send with the part.", ref("schemas", "PartPresign")),
          ...problems([...SIGNED_JSON, "forbidden", "not_found", "upload_closed", "presign_storage_disabled"]),
        },
      },
    },
    "/v1/uploads/{upload_id}/parts/{part}": {
      parameters: [ref("parameters", "upload_id"), ref("parameters", "part")],
      put: {
        operationId: "uploadPart",
        tags: ["uploads"],
        summary: "Send part N through the gateway (write)",
        description:
          "Content-Length must be the part's size (`part_size`, the last part what is left), else 400 before any byte is read. " +
          "Streamed to the store's multipart upload while hashed; a body that differs from its signed Content-Digest is 400 " +
          "`digest_mismatch` and records nothing. Sending a part again replaces it. On Lambda a part above the payload limit is " +
          "413: send parts to storage (`direct_parts`). Under encryption at rest the part is encrypted on the way: a part sent " +
          "again must have the digest it was first sent with (else 409 `already_exists`), and an attempt that fails once its " +
          "first byte was encrypted fails the session (409 `upload_closed` after; start a new session).",
        parameters: [...SIGNED_BODY_PARAMETERS, ref("parameters", "Content-Length")],
        requestBody: { required: true, description: "The part's bytes.", content: { "*/*": { schema: {} } } },
        responses: {
          "200": json("Stored and recorded.", ref("schemas", "UploadPart")),
          ...problems([...SIGNED, ...BUDGETED, "forbidden", "not_found", "digest_mismatch", "length_required", "too_large", "upload_closed", "already_exists"]),
        },
      },
      post: {
        operationId: "registerPart",
        tags: ["uploads"],
        summary: "Record a part sent straight to storage through a presigned URL (write)",
        description: "Untrusted: complete reads every assembled byte back and checks the whole SHA-256.",
        parameters: SIGNED_BODY_PARAMETERS,
        requestBody: jsonBody(ref("schemas", "DirectPart")),
        responses: {
          "200": json("Recorded.", ref("schemas", "UploadPart")),
          ...problems([...SIGNED_JSON, "forbidden", "not_found", "upload_closed", "presign_storage_disabled"]),
        },
      },
    },
    "/v1/uploads/{upload_id}/complete": {
      parameters: [ref("parameters", "upload_id")],
      post: {
        operationId: "completeUpload",
        tags: ["uploads"],
        summary: "Verify the assembled object and commit it (write); call again while it answers 202",
        description:
          "Each call verifies up to `COMPLETE_SLICE_BYTES` more of the assembled object (for 20 s at most) from the saved checkpoint; 202 until " +
          "done (call again after Retry-After), 201 once the whole SHA-256 matched and the manifest is committed under the " +
          "session's precondition, and the same 201 to any later call. Nothing is visible before; a mismatch is 400 " +
          "`digest_mismatch` and the session is failed. Parts missing: 409 `upload_incomplete`.",
        parameters: SIGNED_BODY_PARAMETERS,
        requestBody: jsonBody({ type: "object", description: "Empty: `{}`." }),
        responses: {
          "201": json("Committed: the PUT answer.", ref("schemas", "PutResult")),
          "202": {
            ...json("Not committed yet: verification goes on at the next call.", ref("schemas", "CompletePending")),
            headers: { "X-Request-Id": ref("headers", "X-Request-Id"), "Retry-After": ref("headers", "Retry-After-Complete") },
          },
          ...problems([...SIGNED_JSON, "forbidden", "not_found", "upload_incomplete", "already_exists", "precondition_failed", "integrity_failure"]),
        },
      },
    },
    "/v1/uploads/{upload_id}": {
      parameters: [ref("parameters", "upload_id")],
      get: {
        operationId: "uploadStatus",
        tags: ["uploads"],
        summary: "The session's state and stored parts: what to resend when resuming (write)",
        description: "Sessions are visible only to the keyid that created them; any other caller, and an expired session, is 404.",
        parameters: SIGNED_PARAMETERS,
        responses: { "200": json("The session.", ref("schemas", "UploadStatus")), ...problems([...SIGNED, "forbidden", "not_found"]) },
      },
      delete: {
        operationId: "abortUpload",
        tags: ["uploads"],
        summary: "Abort: the parts, whatever complete assembled, and the session go (write)",
        description: "A session whose complete reached the commit is 409 `upload_closed`: its object is removed with DELETE /v1/objects/{key}.",
        parameters: SIGNED_PARAMETERS,
        responses: { "204": empty("Aborted."), ...problems([...SIGNED, "forbidden", "not_found", "upload_closed"]) },
      },
    },
  },
  components: {
    securitySchemes: {
      httpMessageSignature: {
        type: "apiKey",
        in: "header",
        name: "Signature",
        description:
          "An HTTP Message Signature (RFC 9421); OpenAPI has no scheme for it, so it is described here and in docs/PROTOCOL.md " +
          "section 1. `Signature` carries exactly one member and `Signature-Input` its parameters, e.g. " +
          '`sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1763800000;nonce="…";keyid="ops";alg="ed25519"`. ' +
          "The covered components must include `@method`, `@authority`, `@path`, `@query`, and `content-digest` when the request " +
          "has a body; `created`, `keyid` and a nonce of at least 128 bits are required, and each (keyid, nonce) is accepted " +
          "once. Algorithms: `ed25519` and `hmac-sha256`, as the key record says.",
      },
    },
    parameters: {
      "Authorization-Basic": {
        name: "Authorization",
        in: "header",
        description: "`Basic base64(<any user>:<LFS token>)` (RFC 7617); without it, or with a token not valid for the repository, 401 `unauthorized`.",
        schema: { type: "string" },
      },
      "Signature-Input": {
        name: "Signature-Input",
        in: "header",
        required: true,
        description: "The parameters of the one signature in `Signature` (see the `httpMessageSignature` scheme).",
        schema: { type: "string" },
      },
      "Content-Digest": {
        name: "Content-Digest",
        in: "header",
        required: true,
        description: "RFC 9530 digest of the body with a `sha-256` member, covered by the signature. Any request with a body needs it.",
        schema: { type: "string", examples: ["sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"] },
      },
      "Content-Length": {
        name: "Content-Length",
        in: "header",
        required: true,
        description: "Checked against the size limit before any byte is read (411 `length_required` without it).",
        schema: BYTE_COUNT,
      },
      "If-None-Match-Create": {
        name: "If-None-Match",
        in: "header",
        description: "`*`: create only; 409 `already_exists` when the key has a current version.",
        schema: { type: "string", const: "*" },
      },
      "If-Match": {
        name: "If-Match",
        in: "header",
        description:
          'Replace only the version with this entity tag (`"<sha256>"`, strong comparison) or, with `*`, any current version; else 412 `precondition_failed`.',
        schema: { type: "string" },
      },
      "If-None-Match": {
        name: "If-None-Match",
        in: "header",
        description: "Entity tags (weak comparison) or `*`: 304 when one matches the version served.",
        schema: { type: "string" },
      },
      Range: {
        name: "Range",
        in: "header",
        description:
          "One range, `bytes=a-b`, `bytes=a-` or `bytes=-n`, gives a verified 206. Several ranges or another unit are ignored (200). " +
          "A range starting past the end is 416 `range_not_satisfiable`; a syntax error is 400 `bad_request`.",
        schema: { type: "string" },
      },
      "If-Range": {
        name: "If-Range",
        in: "header",
        description: "Serve the Range only while the version's entity tag is this one; otherwise (and for a date) the whole object.",
        schema: { type: "string" },
      },
      keyid: { name: "keyid", in: "path", required: true, schema: ref("schemas", "Keyid") },
      key: {
        name: "key",
        in: "path",
        required: true,
        description:
          "The object key: the rest of the raw path, percent-decoded exactly once. 1 to 512 bytes of UTF-8 in `/`-separated " +
          "segments (sent as `/`), none empty, `.` or `..`, no control character or backslash; else 400 `invalid_key_name`.",
        schema: { type: "string" },
      },
      upload_id: {
        name: "upload_id",
        in: "path",
        required: true,
        description: "An upload id from `POST /v1/uploads`; anything else is 404.",
        schema: { type: "string", pattern: "^[0-9A-HJKMNP-TV-Z]{26}$" },
      },
      part: {
        name: "part",
        in: "path",
        required: true,
        description: "1 to the session's `part_count`; else 400.",
        schema: { type: "integer", minimum: 1, maximum: 10000 },
      },
      token: {
        name: "token",
        in: "path",
        required: true,
        description: "A link token from `POST /v1/presign`: a bearer secret, logged only as a hash.",
        schema: { type: "string", pattern: "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$" },
      },
      prefix: { name: "prefix", in: "query", description: "List keys starting with this.", schema: { type: "string", default: "" } },
      limit: { name: "limit", in: "query", description: "Page size.", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
      cursor: { name: "cursor", in: "query", description: "The `cursor` of the previous page.", schema: { type: "string" } },
    },
    headers: {
      "X-Request-Id": {
        required: true,
        description: "The gateway's own id for this request (one sent by the client is ignored); every log line about it carries it.",
        schema: { type: "string", format: "uuid" },
      },
      "LFS-Authenticate": { required: true, description: 'What git-lfs should authenticate with: `Basic realm="Verigate LFS"`.', schema: { type: "string" } },
      "Retry-After": { required: true, description: "Seconds until the budget is refilled.", schema: { type: "integer", minimum: 1 } },
      "Retry-After-Complete": {
        required: true,
        description: "0: this call's slice is done, call again now; 1: another complete is working on the session.",
        schema: { type: "integer", minimum: 0 },
      },
      "Location-Upload": { required: true, description: "`/v1/uploads/{upload_id}`.", schema: { type: "string" } },
      "Retry-After-Overloaded": {
        description: "Sent with `overloaded` only: seconds after which the same request (same signature) may be sent again.",
        schema: { type: "integer", minimum: 1 },
      },
      "Content-Length": {
        required: true,
        description: "The size of the object or of the range, from the manifest; absent only when the platform content-coded the body (see Content-Encoding).",
        schema: BYTE_COUNT,
      },
      "Content-Encoding": {
        description:
          "Never set by the gateway. Cloudflare's edge (and Miniflare, which models it) gzip- or br-encodes text and JSON " +
          "content types for a client that accepts it, and drops Content-Length. Send `Accept-Encoding: identity` to get " +
          "the stored bytes as they are, with their Content-Length.",
        schema: { type: "string" },
      },
      ETag: { required: true, schema: ENTITY_TAG },
      "Repr-Digest": {
        required: true,
        description: "RFC 9530 digest of the whole object, also on a 206, so a client can check a download assembled from ranges.",
        schema: { type: "string", pattern: "^sha-256=:[A-Za-z0-9+/]{43}=:$" },
      },
      "Accept-Ranges": { required: true, schema: { type: "string", const: "bytes" } },
      "Last-Modified": {
        required: true,
        description: "When this version was uploaded (IMF-fixdate).",
        schema: { type: "string", pattern: "^[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT$" },
      },
      "Content-Range": { required: true, schema: { type: "string", pattern: "^bytes \\d+-\\d+/\\d+$" } },
      "Content-Range-Unsatisfied": {
        required: true,
        description: "The object's size, so the client can ask again.",
        schema: { type: "string", pattern: "^bytes \\*/\\d+$" },
      },
    },
    responses: {
      Object: {
        description: "The whole object, each chunk verified before it is written; its Content-Type is the one it was uploaded with.",
        headers: {
          "X-Request-Id": ref("headers", "X-Request-Id"),
          "Content-Length": ref("headers", "Content-Length"),
          "Content-Encoding": ref("headers", "Content-Encoding"),
          ETag: ref("headers", "ETag"),
          "Repr-Digest": ref("headers", "Repr-Digest"),
          "Accept-Ranges": ref("headers", "Accept-Ranges"),
          "Last-Modified": ref("headers", "Last-Modified"),
        },
        content: { "*/*": { schema: {} } },
      },
      ObjectRange: {
        description: "The one requested range, verified chunk by chunk like a whole object.",
        headers: {
          "X-Request-Id": ref("headers", "X-Request-Id"),
          "Content-Length": ref("headers", "Content-Length"),
          "Content-Encoding": ref("headers", "Content-Encoding"),
          "Content-Range": ref("headers", "Content-Range"),
          ETag: ref("headers", "ETag"),
          "Repr-Digest": ref("headers", "Repr-Digest"),
          "Accept-Ranges": ref("headers", "Accept-Ranges"),
          "Last-Modified": ref("headers", "Last-Modified"),
        },
        content: { "*/*": { schema: {} } },
      },
      NotModified: {
        description: "`If-None-Match` matched: the validators only, no body.",
        headers: {
          "X-Request-Id": ref("headers", "X-Request-Id"),
          ETag: ref("headers", "ETag"),
          "Last-Modified": ref("headers", "Last-Modified"),
        },
      },
    },
    schemas: {
      Problem: {
        type: "object",
        description: "An error (RFC 9457). No storage error text, stack or configuration value is ever in it; the log line with the same request id has those.",
        required: PROBLEM_REQUIRED,
        additionalProperties: false,
        properties: PROBLEM_PROPERTIES,
      },
      LfsProblem: {
        type: "object",
        description:
          "An error on an LFS route: the Problem members plus git-lfs's `message` (the detail, else the title) and `documentation_url` (this gateway's `/openapi.json`).",
        required: LFS_PROBLEM_REQUIRED,
        additionalProperties: false,
        properties: LFS_PROBLEM_PROPERTIES,
      },
      LfsLockExists: {
        type: "object",
        description: "409 on a lock create (git-lfs docs/api/locking.md): an LfsProblem with code `lock_exists` and the existing `lock`.",
        required: [...LFS_PROBLEM_REQUIRED, "lock"],
        additionalProperties: false,
        properties: { ...LFS_PROBLEM_PROPERTIES, lock: ref("schemas", "LfsLock") },
      },
      LfsLock: {
        type: "object",
        required: ["id", "path", "locked_at", "owner"],
        additionalProperties: false,
        properties: {
          id: { type: "string", pattern: "^[0-9a-f]{32}$" },
          path: ref("schemas", "LfsLockPath"),
          locked_at: { type: "string", format: "date-time", pattern: "^[0-9-]{10}T[0-9:]{8}Z$", description: "RFC 3339, to the second, UTC." },
          owner: {
            type: "object",
            required: ["name"],
            additionalProperties: false,
            properties: { name: { type: "string", description: "The keyid that minted the LFS token the lock was taken with." } },
          },
        },
      },
      LfsLockPath: {
        type: "string",
        minLength: 1,
        pattern: "^[^/\\u0000][^\\u0000]*$",
        description: "Relative to the repository root: no leading `/`, no NUL, at most 1,024 bytes of UTF-8; kept byte for byte.",
      },
      LfsRef: {
        type: "object",
        description: "Tolerated and unused: locks are per repository (locking.md's single-branch locking).",
        properties: { name: { type: "string" } },
      },
      LfsLockRequest: {
        type: "object",
        required: ["path"],
        properties: { path: ref("schemas", "LfsLockPath"), ref: ref("schemas", "LfsRef") },
      },
      LfsLockCreated: { type: "object", required: ["lock"], additionalProperties: false, properties: { lock: ref("schemas", "LfsLock") } },
      LfsLockList: {
        type: "object",
        required: ["locks"],
        additionalProperties: false,
        properties: { locks: { type: "array", maxItems: 100, items: ref("schemas", "LfsLock") }, next_cursor: LFS_LOCK_CURSOR },
      },
      LfsLockVerifyRequest: {
        type: "object",
        properties: {
          cursor: LFS_LOCK_CURSOR,
          limit: { type: "integer", minimum: 1, description: "Default 100; above 100 served as 100." },
          ref: ref("schemas", "LfsRef"),
        },
      },
      LfsLockVerifyList: {
        type: "object",
        required: ["ours", "theirs"],
        additionalProperties: false,
        properties: {
          ours: { type: "array", items: ref("schemas", "LfsLock"), description: "Locks owned by the key that minted the caller's token." },
          theirs: { type: "array", items: ref("schemas", "LfsLock"), description: "Every other lock of the page." },
          next_cursor: LFS_LOCK_CURSOR,
        },
      },
      LfsUnlockRequest: {
        type: "object",
        properties: { force: { type: "boolean", description: "Break another owner's lock." }, ref: ref("schemas", "LfsRef") },
      },
      LfsObjectId: {
        type: "object",
        required: ["oid", "size"],
        properties: { oid: SHA256_HEX, size: BYTE_COUNT },
      },
      LfsBatchRequest: {
        type: "object",
        required: ["operation", "objects"],
        properties: {
          operation: { enum: ["upload", "download"] },
          transfers: { type: "array", items: { type: "string" }, description: "Must include `basic` when given." },
          ref: { description: "Tolerated and unused: tokens grant a whole repository." },
          objects: { type: "array", maxItems: 100, items: { type: "object", properties: { oid: { type: "string" }, size: { type: "integer" } } } },
          hash_algo: { const: "sha256" },
        },
      },
      LfsAction: {
        type: "object",
        required: ["href", "expires_in", "expires_at"],
        additionalProperties: false,
        properties: {
          href: { type: "string", format: "uri" },
          header: { type: "object", additionalProperties: { type: "string" }, description: "On a storage upload: the signed checksum and length headers." },
          expires_in: { type: "integer", minimum: 1 },
          expires_at: TIMESTAMP,
        },
      },
      LfsBatchResponse: {
        type: "object",
        required: ["transfer", "objects", "hash_algo"],
        additionalProperties: false,
        properties: {
          transfer: { const: "basic" },
          hash_algo: { const: "sha256" },
          objects: {
            type: "array",
            items: {
              type: "object",
              required: ["oid", "size"],
              additionalProperties: false,
              properties: {
                oid: { type: "string" },
                size: { type: "integer" },
                authenticated: { const: true },
                actions: {
                  type: "object",
                  additionalProperties: false,
                  properties: { download: ref("schemas", "LfsAction"), upload: ref("schemas", "LfsAction"), verify: ref("schemas", "LfsAction") },
                },
                error: {
                  type: "object",
                  required: ["code", "message"],
                  additionalProperties: false,
                  properties: { code: { enum: [404, 410, 422] }, message: { type: "string" } },
                },
              },
            },
          },
        },
      },
      Keyid: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" },
      Algorithm: { type: "string", enum: ["ed25519", "hmac-sha256"] },
      Action: { type: "string", enum: ACTIONS },
      Scope: {
        type: "object",
        description: "Allows `actions` on every object key that starts with `prefix`.",
        required: ["prefix", "actions"],
        additionalProperties: false,
        properties: { prefix: { type: "string" }, actions: { type: "array", items: ref("schemas", "Action"), uniqueItems: true } },
      },
      RewrapProgress: {
        type: "object",
        description: 'The rewrap pass (PROTOCOL section 5, "Encryption key rotation"): `idle` before any, `running`, or `done`.',
        required: [
          "state",
          "target_kid",
          "scanned",
          "rewrapped",
          "signed",
          "failed",
          "unsigned",
          "remaining_by_kid",
          "cursor",
          "started_at",
          "updated_at",
          "finished_at",
        ],
        additionalProperties: false,
        properties: {
          state: { type: "string", enum: ["idle", "running", "done"] },
          target_kid: { type: ["string", "null"], description: "The key id the pass moves manifests to: the current one when it started." },
          scanned: BYTE_COUNT,
          rewrapped: { ...BYTE_COUNT, description: "Signed manifests rewritten under the target key." },
          signed: { ...BYTE_COUNT, description: "Unsigned legacy manifests signed." },
          failed: { ...BYTE_COUNT, description: "Manifests left as they were because they failed verification (logged `rewrap_manifest_refused`)." },
          unsigned: { ...BYTE_COUNT, description: "Of those, unsigned ones (the pass signs them only while `UNSIGNED_MANIFESTS=read`)." },
          remaining_by_kid: KID_COUNTS,
          cursor: { type: ["string", "null"], description: "The metadata key of the last manifest record handled." },
          started_at: NULLABLE_TIMESTAMP,
          updated_at: NULLABLE_TIMESTAMP,
          finished_at: NULLABLE_TIMESTAMP,
        },
      },
      Whoami: {
        type: "object",
        required: ["keyid", "alg", "scopes", "admin"],
        additionalProperties: false,
        properties: {
          keyid: { type: "string" },
          alg: ref("schemas", "Algorithm"),
          scopes: { type: "array", items: ref("schemas", "Scope") },
          admin: { type: "boolean" },
        },
      },
      NewKey: {
        type: "object",
        required: ["alg", "scopes"],
        properties: {
          keyid: {
            ...ref("schemas", "Keyid"),
            description: "Default for ed25519: the RFC 7638 JWK thumbprint. Names starting with `verigate`, and `unauthenticated`, are reserved.",
          },
          alg: ref("schemas", "Algorithm"),
          public_key: { type: "string", description: "ed25519 only, and required: the raw 32-byte public key, base64url." },
          scopes: { type: "array", items: ref("schemas", "Scope"), maxItems: 64 },
          expires_at: TIMESTAMP,
          admin: { type: "boolean", default: false },
        },
      },
      KeyRecord: { type: "object", required: KEY_RECORD_REQUIRED, additionalProperties: false, properties: KEY_RECORD_PROPERTIES },
      CreatedKey: {
        type: "object",
        required: KEY_RECORD_REQUIRED,
        additionalProperties: false,
        properties: {
          ...KEY_RECORD_PROPERTIES,
          secret: { type: "string", pattern: "^[A-Za-z0-9_-]{43}$", description: "hmac-sha256 only: the 32-byte secret, base64url, returned this once." },
        },
      },
      KeyList: {
        type: "object",
        required: ["keys"],
        additionalProperties: false,
        properties: { keys: { type: "array", items: ref("schemas", "KeyRecord") } },
      },
      LfsRepo: {
        type: "string",
        pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
        description: "A repository name: one segment, at most 100 characters, not ending with `.`.",
      },
      LfsTokenRequest: {
        type: "object",
        required: ["repo", "access"],
        properties: {
          repo: ref("schemas", "LfsRepo"),
          access: { type: "string", enum: ["read", "write"], description: "A read token downloads and lists locks; a write token also uploads and locks." },
          expires_in: {
            type: "integer",
            minimum: LFS_TOKEN_MIN_SECONDS,
            maximum: LFS_TOKEN_MAX_SECONDS,
            default: LFS_TOKEN_DEFAULT_SECONDS,
            description: "Seconds: default 7 days, at most 90.",
          },
        },
      },
      LfsToken: { type: "object", required: LFS_TOKEN_REQUIRED, additionalProperties: false, properties: LFS_TOKEN_PROPERTIES },
      CreatedLfsToken: {
        type: "object",
        required: [...LFS_TOKEN_REQUIRED, "token", "lfs_url"],
        additionalProperties: false,
        properties: {
          ...LFS_TOKEN_PROPERTIES,
          token: {
            type: "string",
            pattern: "^vglfs_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$",
            description: "The HTTP Basic password (any user name), returned this once.",
          },
          lfs_url: { type: "string", format: "uri", description: "The value for `git config lfs.url`: this gateway's origin and `/lfs/<repo>`." },
        },
      },
      LfsTokenList: {
        type: "object",
        required: ["tokens"],
        additionalProperties: false,
        properties: { tokens: { type: "array", items: ref("schemas", "LfsToken") } },
      },
      Version: { type: "string", pattern: "^[0-9A-HJKMNP-TV-Z]{26}$", description: "A version id (ULID layout): never reused, sorts by upload time." },
      PutResult: {
        type: "object",
        required: ["key", "version", "size", "sha256", "chunk_size", "etag"],
        additionalProperties: false,
        properties: {
          key: { type: "string" },
          version: ref("schemas", "Version"),
          size: BYTE_COUNT,
          sha256: SHA256_HEX,
          chunk_size: { type: "integer", minimum: 1, description: "The verification chunk of this version." },
          etag: { ...ENTITY_TAG, description: "The ETag header value, quotes included, ready for If-Match." },
        },
      },
      ObjectList: {
        type: "object",
        required: ["objects", "cursor"],
        additionalProperties: false,
        properties: {
          objects: {
            type: "array",
            items: {
              type: "object",
              required: ["key", "size", "sha256", "version", "uploaded_at"],
              additionalProperties: false,
              properties: { key: { type: "string" }, size: BYTE_COUNT, sha256: SHA256_HEX, version: ref("schemas", "Version"), uploaded_at: TIMESTAMP },
            },
          },
          cursor: { type: ["string", "null"], description: "Pass as `cursor` for the next page; null on the last. A page may be short while it is not null." },
        },
      },
      NewUpload: {
        type: "object",
        required: ["key", "size", "sha256"],
        properties: {
          key: { type: "string" },
          size: { type: "integer", minimum: 1, description: "Bytes; at most `MAX_UPLOAD_SESSION_BYTES` (5 TiB by default)." },
          sha256: { ...SHA256_HEX, description: "SHA-256 of the whole object: complete commits only when the assembled bytes hash to it." },
          content_type: { type: "string", maxLength: 256, description: "Stored and served back; default `application/octet-stream`." },
        },
      },
      Upload: {
        type: "object",
        required: ["upload_id", "key", "size", "sha256", "chunk_size", "part_size", "part_count", "expires_at", "direct_parts"],
        additionalProperties: false,
        properties: UPLOAD_PROPERTIES,
      },
      UploadStatus: {
        type: "object",
        required: [
          "upload_id",
          "key",
          "size",
          "sha256",
          "chunk_size",
          "part_size",
          "part_count",
          "expires_at",
          "direct_parts",
          "state",
          "parts",
          "verified_bytes",
        ],
        additionalProperties: false,
        properties: {
          ...UPLOAD_PROPERTIES,
          state: { type: "string", enum: ["open", "verifying", "committing", "completed", "failed"] },
          parts: { type: "array", items: ref("schemas", "UploadPart"), description: "Recorded parts in part order." },
          verified_bytes: { ...BYTE_COUNT, description: "Bytes of the assembled object verified so far." },
          version: { ...ref("schemas", "Version"), description: "State `completed`: the committed version." },
          failure: {
            type: "object",
            description: "State `failed`: what every complete answers.",
            required: ["code", "detail"],
            additionalProperties: false,
            properties: { code: { type: "string" }, detail: { type: "string" } },
          },
        },
      },
      UploadPart: {
        type: "object",
        required: ["part", "size", "sha256"],
        additionalProperties: false,
        properties: { part: { type: "integer", minimum: 1 }, size: BYTE_COUNT, sha256: SHA256_HEX },
      },
      PartDigest: { type: "object", required: ["sha256"], properties: { sha256: { ...SHA256_HEX, description: "The part's SHA-256." } } },
      DirectPart: {
        type: "object",
        required: ["sha256", "etag"],
        properties: { sha256: SHA256_HEX, etag: { type: "string", description: "The ETag header storage answered to the part's PUT, as sent." } },
      },
      PartPresign: {
        type: "object",
        required: ["url", "method", "headers", "expires_at"],
        additionalProperties: false,
        properties: {
          url: { type: "string", format: "uri" },
          method: { const: "PUT" },
          headers: {
            type: "object",
            required: ["x-amz-checksum-sha256", "content-length"],
            properties: { "x-amz-checksum-sha256": { type: "string" }, "content-length": { type: "string", pattern: "^[0-9]+$" } },
            additionalProperties: { type: "string" },
            description: "Send exactly these with the part: the base64 SHA-256 (a signed header) and the part's size.",
          },
          expires_at: TIMESTAMP,
        },
      },
      CompletePending: {
        type: "object",
        required: ["state", "verified_bytes", "size"],
        additionalProperties: false,
        properties: { state: { type: "string", enum: ["open", "verifying", "committing"] }, verified_bytes: BYTE_COUNT, size: BYTE_COUNT },
      },
      PresignRequest: {
        type: "object",
        required: ["key"],
        properties: {
          key: { type: "string" },
          expires_in: { type: "integer", minimum: 1, default: 300, description: "Seconds, at most `PRESIGN_MAX_SECONDS` (3600 by default)." },
          single_use: { type: "boolean", default: false, description: "Gateway links only: the first GET spends it (410 `link_used` after)." },
          mode: { type: "string", enum: ["gateway", "storage"], default: "gateway" },
        },
      },
      PresignResult: {
        type: "object",
        required: ["url", "method", "mode", "expires_at", "integrity"],
        additionalProperties: false,
        properties: {
          url: { type: "string", format: "uri" },
          method: { const: "GET" },
          mode: { type: "string", enum: ["gateway", "storage"] },
          expires_at: TIMESTAMP,
          integrity: {
            type: "object",
            description: "What the bytes behind `url` must hash to; a `storage` URL's recipient must check it.",
            required: ["sha256", "size", "chunk_size"],
            additionalProperties: false,
            properties: { sha256: SHA256_HEX, size: BYTE_COUNT, chunk_size: { type: "integer", minimum: 1 } },
          },
        },
      },
      PlanRequest: {
        type: "object",
        required: ["key"],
        properties: {
          key: { type: "string" },
          version: { ...ref("schemas", "Version"), description: "The version an earlier plan returned; absent plans the current one." },
          offset: { ...BYTE_COUNT, default: 0, description: "The first byte wanted; at or past the end is 416 `range_not_satisfiable`." },
          length: { type: "integer", minimum: 1, description: "Bytes wanted from `offset`; absent runs to the end of the object." },
          expires_in: { type: "integer", minimum: 1, default: 300, description: "Seconds the URL lives, at most `PRESIGN_MAX_SECONDS` (3600 by default)." },
        },
      },
      Plan: {
        type: "object",
        required: ["key", "version", "size", "sha256", "chunk_size", "etag", "first_chunk", "chunks", "next_offset", "url", "expires_at"],
        additionalProperties: false,
        properties: {
          key: { type: "string" },
          version: ref("schemas", "Version"),
          size: BYTE_COUNT,
          sha256: { ...SHA256_HEX, description: "The whole object's SHA-256: check it once every chunk is in." },
          chunk_size: { type: "integer", minimum: 1 },
          etag: ENTITY_TAG,
          first_chunk: { ...BYTE_COUNT, description: "Index of the window's first chunk: chunk i is bytes i x chunk_size up to the next chunk or the end." },
          chunks: { type: "array", maxItems: 1024, items: SHA256_HEX, description: "SHA-256 of chunks first_chunk, first_chunk + 1, ... in order." },
          next_offset: {
            type: ["integer", "null"],
            minimum: 0,
            description: "The first byte of the chunk after a window cut at 1024 chunks, to ask the rest with; null when the window reaches the end asked for.",
          },
          url: { type: "string", format: "uri", description: "A presigned storage GET of the version's blob; send Range headers for the chunks wanted." },
          expires_at: TIMESTAMP,
        },
      },
      Health: {
        type: "object",
        required: ["status", "version", "runtime", "auth_mode", "replay_store", "storage", "presign_storage", "max_object_bytes"],
        additionalProperties: false,
        properties: {
          status: { type: "string", enum: ["ok", "misconfigured"] },
          version: { type: "string" },
          runtime: { type: "string", enum: ["workers", "lambda", "node"] },
          auth_mode: { type: "string", enum: ["enforce", "soft", "off"] },
          replay_store: {
            type: "object",
            required: ["backend", "atomic"],
            additionalProperties: false,
            properties: {
              backend: { type: "string", enum: ["durable-object", "dynamodb", "kv", "memory"] },
              atomic: { type: "boolean", description: "Whether the store claims with compare-and-set (`kv` does not)." },
            },
          },
          storage: {
            type: "object",
            required: ["backend"],
            additionalProperties: false,
            properties: { backend: { type: "string", enum: ["r2", "s3"] } },
          },
          presign_storage: { type: "boolean" },
          max_object_bytes: { ...BYTE_COUNT, description: "The PUT size limit in force, so a client can refuse an upload before sending it." },
          problems: {
            type: "array",
            items: { type: "string", pattern: "^[a-z0-9_]+$" },
            minItems: 1,
            description: "Configuration problem codes, e.g. `invalid_auth_mode`.",
          },
          warnings: {
            type: "array",
            items: { type: "string", pattern: "^[a-z0-9_]+$" },
            minItems: 1,
            description:
              "Settings only some routes need, e.g. `presign_secret_missing`: those routes answer 503 `misconfigured` while `status` stays ok; " +
              "and lowered guards, e.g. `unsigned_manifests_readable`.",
          },
          encryption: {
            type: "object",
            description:
              "Present when `ENCRYPTION_KEYS` is set and the gateway is configured: key ids, never keys; counts from the last completed rewrap pass.",
            required: ["current_kid", "kids", "objects_by_kid", "unsigned", "started_at", "finished_at"],
            additionalProperties: false,
            properties: {
              current_kid: { type: "string" },
              kids: { type: "array", items: { type: "string" }, minItems: 1 },
              objects_by_kid: { oneOf: [KID_COUNTS, { type: "null" }] },
              unsigned: { oneOf: [BYTE_COUNT, { type: "null" }] },
              started_at: NULLABLE_TIMESTAMP,
              finished_at: NULLABLE_TIMESTAMP,
            },
          },
        },
      },
    },
  },
};
