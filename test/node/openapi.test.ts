import { compileErrors, validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPENAPI_DOCUMENT } from "../../functions/openapi-document.ts";
import { ERROR_CODES } from "../../shared/errors/index.ts";
import { newEd25519Key } from "../support/keys.ts";
import { type Problem, problemOf, wireProblemOf } from "../support/problem.ts";
import { randomBytes, sha256Hex } from "./support/bytes.ts";
import { checkResponse, checkWireResponse, conformanceErrors } from "./support/openapi.ts";
import { FUNCTION_URL_BUFFERS_REQUESTS, itUnless, RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness, SignedInit, Signer } from "./support/wire.ts";

const CHUNK = 64 * 1024;
/** The suite's upload limit: a PUT declaring one byte more is refused from its headers. */
const MAX_OBJECT_BYTES = 4 * CHUNK;
const PRESIGN_SECRET = "presign-secret-for-the-openapi-suite-0123456789";
const EVERY_ACTION = ["read", "write", "delete", "list", "presign"];
/** A link is refused from one second after its expiry (the gateway's clock has whole seconds); the rest is margin. */
const LINK_EXPIRED_AFTER_MS = 2_100;

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const JSON_HEADERS = { "content-type": "application/json" };

/** Every `code` enum of every problem response of every operation. */
function answeredCodes(): Set<string> {
  const codes = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    const content = value as Record<string, { schema?: { properties?: { code?: { enum?: string[] } } } }>;
    // LFS routes answer problems in git-lfs's media type (PROTOCOL section 8).
    for (const media of [content["application/problem+json"], content["application/vnd.git-lfs+json"]]) {
      for (const code of media?.schema?.properties?.code?.enum ?? []) codes.add(code);
    }
    for (const inner of Object.values(value)) visit(inner);
  };
  visit(OPENAPI_DOCUMENT.paths);
  return codes;
}

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document (@readme/openapi-parser), without warnings", async () => {
    const result = await validate(structuredClone(OPENAPI_DOCUMENT) as never);
    expect(result.valid, compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it("lists exactly the gateway's problem codes in the Problem schema", () => {
    const listed = OPENAPI_DOCUMENT.components.schemas.Problem.properties.code.enum;
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...ERROR_CODES].sort());
  });

  it("has some operation answer each problem code, so a new code must be placed on the routes that answer it", () => {
    expect([...answeredCodes()].sort()).toEqual([...ERROR_CODES].sort());
  });
});

/** The checker must refuse what drifts; each case is a response the gateway could plausibly come to send. */
describe("the response checker", () => {
  const requestId = "6f1c1c8e-6f0a-4d5e-9c1b-2f3a4b5c6d7e";
  const problemBody = (status: number, code: string) => ({ type: `urn:verigate:error:${code}`, title: "t", status, code, request_id: requestId });
  const respond = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers: new Headers({ "x-request-id": requestId, ...headers }),
    body: body === undefined ? undefined : json(body),
  });
  const putResult = { key: "a", version: "01KAB0000000000000000000AB", size: 1, sha256: "0".repeat(64), chunk_size: 65536, etag: `"${"0".repeat(64)}"` };
  const objectHeaders = {
    "content-type": "application/octet-stream",
    "content-length": "1",
    etag: `"${"0".repeat(64)}"`,
    "repr-digest": `sha-256=:${"A".repeat(43)}=:`,
    "accept-ranges": "bytes",
    "last-modified": "Sun, 22 Nov 2026 10:00:00 GMT",
  };
  const { etag: _etag, ...withoutETag } = objectHeaders;
  const JSON_TYPE = { "content-type": "application/json" };
  const PROBLEM_TYPE = { "content-type": "application/problem+json" };

  it("accepts a conforming answer (the control)", () => {
    expect(conformanceErrors("PUT", "/v1/objects/a", respond(201, putResult, JSON_TYPE))).toEqual([]);
    expect(conformanceErrors("GET", "/v1/objects/a/b", respond(200, undefined, objectHeaders))).toEqual([]);
    expect(conformanceErrors("GET", "/v1/whoami", respond(401, problemBody(401, "signature_missing"), PROBLEM_TYPE))).toEqual([]);
    // What Cloudflare's edge makes of a text object for a client that accepts gzip: coded, so framed without a length.
    const { "content-length": _length, ...coded } = { ...objectHeaders, "content-encoding": "gzip" };
    expect(conformanceErrors("GET", "/v1/objects/a.txt", respond(200, undefined, coded))).toEqual([]);
  });

  it.each([
    ["a member the schema does not name", "PUT", "/v1/objects/a", respond(201, { ...putResult, owner: "x" }, JSON_TYPE), /must NOT have additional properties/],
    ["a required member missing", "PUT", "/v1/objects/a", respond(201, { ...putResult, etag: undefined }, JSON_TYPE), /must have required property 'etag'/],
    [
      "a code under another status",
      "GET",
      "/v1/whoami",
      respond(401, problemBody(401, "forbidden"), PROBLEM_TYPE),
      /must be equal to one of the allowed values/,
    ],
    ["a code the operation never answers", "GET", "/healthz", respond(404, problemBody(404, "not_found"), PROBLEM_TYPE), /status not documented/],
    [
      "a problem whose status is not the response's",
      "GET",
      "/v1/whoami",
      respond(401, problemBody(400, "signature_missing"), PROBLEM_TYPE),
      /problem status 400/,
    ],
    [
      "a JSON answer where a problem is documented",
      "GET",
      "/v1/whoami",
      respond(401, problemBody(401, "signature_missing"), JSON_TYPE),
      /Content-Type application\/json is none of/,
    ],
    [
      "a missing X-Request-Id",
      "GET",
      "/v1/whoami",
      { ...respond(200, { keyid: "k", alg: "ed25519", scopes: [], admin: false }, JSON_TYPE), headers: new Headers(JSON_TYPE) },
      /missing required header X-Request-Id/,
    ],
    ["a download without its ETag", "GET", "/v1/objects/a", respond(200, undefined, withoutETag), /missing required header ETag/],
    ["a malformed Repr-Digest", "GET", "/v1/objects/a", respond(200, undefined, { ...objectHeaders, "repr-digest": "sha-256=abc" }), /header Repr-Digest/],
    ["a success on a route the document does not name", "GET", "/v1/objects-v2", respond(200, {}, JSON_TYPE), /only a problem may answer/],
  ])("refuses %s", (_drift, method, target, observed, message) => {
    expect(conformanceErrors(method, target, observed).join("\n")).toMatch(message);
  });
});

/** Drives every route on each build through success and its main error statuses, every answer checked against the document. */
describe.each(RUNTIMES)("on %s, every answer conforms to the document", (runtime, start) => {
  let gateway: GatewayHarness;
  let user: Signer;
  let expiring: string;
  let expiringIssuedAt: number;

  /** The wire client checks every signed answer against the document (`support/wire.ts`). */
  const signed = (method: string, target: string, init?: SignedInit) => gateway.signedFetch(method, target, init);

  /** An unsigned request, its answer checked against the document here. */
  async function unsigned(method: string, target: string, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(new URL(target, gateway.origin), { method, headers });
    await checkResponse(method, target, response);
    return response;
  }

  async function put(key: string, body: Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): Promise<Response> {
    return signed("PUT", `/v1/objects/${key}`, { body, headers });
  }

  /** A PUT on its own connection, signed for `signedBody`, with framing `headers` added after signing; its problem. */
  async function rawPut(key: string, signedBody: Uint8Array, headers: Record<string, string>, body?: Uint8Array): Promise<Problem> {
    const target = `/v1/objects/${key}`;
    const signedHeaders = await gateway.signedHeaders("PUT", target, { signedBody });
    const response = await gateway.connect({ method: "PUT", target, headers: { ...signedHeaders, ...headers }, ...(body ? { body } : {}) }).response;
    if (!response) throw new Error(`no response to PUT ${target}`);
    await checkWireResponse("PUT", target, response);
    return wireProblemOf(response);
  }

  async function presign(request: Record<string, unknown>, as?: Signer): Promise<Response> {
    return signed("POST", "/v1/presign", { body: json(request), headers: JSON_HEADERS, ...(as ? { as } : {}) });
  }

  async function linkPath(request: Record<string, unknown>, as?: Signer): Promise<string> {
    const response = await presign(request, as);
    expect(response.status).toBe(200);
    return new URL(((await response.json()) as { url: string }).url).pathname;
  }

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET, CHUNK_SIZE_BYTES: String(CHUNK), MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES) });
    const pair = await newEd25519Key();
    const created = await signed("POST", "/v1/keys", {
      body: json({ keyid: "openapi-user", alg: "ed25519", public_key: pair.publicKey, scopes: [{ prefix: "", actions: EVERY_ACTION }] }),
      headers: JSON_HEADERS,
    });
    expect(created.status).toBe(201);
    user = { keyid: "openapi-user", key: { alg: "ed25519", privateKey: pair.privateKey } };
    expect((await put("docs/a.bin", randomBytes(2 * CHUNK + 10))).status).toBe(201);
    // Issued first so that its second of life passes while the other cases run.
    expiring = await linkPath({ key: "docs/a.bin", expires_in: 1 });
    expiringIssuedAt = Date.now();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("GET /healthz and GET /openapi.json, unsigned; the served document is the module's", async () => {
    expect((await unsigned("GET", "/healthz")).status).toBe(200);
    const served = await unsigned("GET", "/openapi.json");
    expect(served.status).toBe(200);
    expect(await served.json()).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
  });

  it("GET /v1/whoami: 200, 401 unsigned, 400 malformed signature, 401 replayed", async () => {
    expect((await signed("GET", "/v1/whoami")).status).toBe(200);
    expect(await problemOf(await unsigned("GET", "/v1/whoami"))).toEqual({ status: 401, code: "signature_missing" });
    const malformed = await unsigned("GET", "/v1/whoami", { "Signature-Input": "sig1=(", Signature: "sig1=:AA==:" });
    expect(await problemOf(malformed)).toEqual({ status: 400, code: "malformed_signature" });
    const headers = await gateway.signedHeaders("GET", "/v1/whoami");
    expect((await unsigned("GET", "/v1/whoami", headers)).status).toBe(200);
    expect(await problemOf(await unsigned("GET", "/v1/whoami", headers))).toEqual({ status: 401, code: "replayed_request" });
  });

  it("/v1/keys: create (ed25519, hmac with its secret), 409, 400, list, get, 404, revoke, 403 for a non-admin", async () => {
    const pair = await newEd25519Key();
    const ed25519 = { keyid: "openapi-ed", alg: "ed25519", public_key: pair.publicKey, scopes: [{ prefix: "x/", actions: ["read"] }] };
    expect((await signed("POST", "/v1/keys", { body: json(ed25519), headers: JSON_HEADERS })).status).toBe(201);
    const hmac = await signed("POST", "/v1/keys", {
      body: json({ keyid: "openapi-hmac", alg: "hmac-sha256", scopes: [], expires_at: "2999-01-01T00:00:00Z" }),
      headers: JSON_HEADERS,
    });
    expect(hmac.status).toBe(201);
    expect(await hmac.json()).toHaveProperty("secret");
    expect(await problemOf(await signed("POST", "/v1/keys", { body: json(ed25519), headers: JSON_HEADERS }))).toEqual({ status: 409, code: "already_exists" });
    expect(await problemOf(await signed("POST", "/v1/keys", { body: json({ alg: "rsa", scopes: [] }), headers: JSON_HEADERS }))).toEqual({
      status: 400,
      code: "bad_request",
    });
    const digestMismatch = await signed("POST", "/v1/keys", { body: json(ed25519), signedBody: json({}), headers: JSON_HEADERS });
    expect(await problemOf(digestMismatch)).toEqual({ status: 400, code: "digest_mismatch" });
    expect((await signed("GET", "/v1/keys")).status).toBe(200);
    expect((await signed("GET", "/v1/keys/openapi-hmac")).status).toBe(200);
    expect((await signed("GET", `/v1/keys/${gateway.admin.keyid}`)).status).toBe(200);
    expect(await problemOf(await signed("GET", "/v1/keys/nobody"))).toEqual({ status: 404, code: "not_found" });
    expect((await signed("DELETE", "/v1/keys/openapi-hmac")).status).toBe(204);
    expect(await problemOf(await signed("DELETE", "/v1/keys/nobody"))).toEqual({ status: 404, code: "not_found" });
    expect(await problemOf(await signed("GET", "/v1/keys", { as: user }))).toEqual({ status: 403, code: "forbidden" });
  });

  it("PUT /v1/objects/{key}: 201, 409, 412, 400 digest and key name", async () => {
    const body = randomBytes(1000);
    const created = await put("docs/put.bin", body, { "content-type": "text/plain" });
    expect(created.status).toBe(201);
    const { etag } = (await created.json()) as { etag: string };
    expect((await put("docs/put.bin", body, { "If-Match": etag })).status).toBe(201);
    expect(await problemOf(await put("docs/put.bin", body, { "If-None-Match": "*" }))).toEqual({ status: 409, code: "already_exists" });
    expect(await problemOf(await put("docs/put.bin", body, { "If-Match": `"${"0".repeat(64)}"` }))).toEqual({ status: 412, code: "precondition_failed" });
    const mismatch = await signed("PUT", "/v1/objects/docs/put.bin", { body, signedBody: randomBytes(1000) });
    expect(await problemOf(mismatch)).toEqual({ status: 400, code: "digest_mismatch" });
    expect(await problemOf(await put("docs//put.bin", body))).toEqual({ status: 400, code: "invalid_key_name" });
  });

  itUnless(runtime, { lambda: FUNCTION_URL_BUFFERS_REQUESTS })("PUT /v1/objects/{key} refused from the headers alone: 413, 411", async () => {
    const body = randomBytes(1000);
    // Refused from the headers alone, so sent on connections of their own: the server closes them unread.
    const big = await rawPut("docs/big.bin", body, { "Content-Length": String(MAX_OBJECT_BYTES + 1) });
    expect(big).toEqual({ status: 413, code: "too_large" });
    const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
    expect(await rawPut("docs/chunked.bin", body, { "Transfer-Encoding": "chunked" }, chunked)).toEqual({ status: 411, code: "length_required" });
  });

  // The Function URL invokes with a whole request only, so the body goes too; the gateway still refuses it by its length.
  it.runIf(runtime === "lambda")("PUT /v1/objects/{key} above MAX_OBJECT_BYTES, sent whole: 413", async () => {
    const body = randomBytes(MAX_OBJECT_BYTES + 1);
    expect(await rawPut("docs/big.bin", body, { "Content-Length": String(body.length) }, body)).toEqual({ status: 413, code: "too_large" });
  });

  it("GET and HEAD /v1/objects/{key}: 200, 206, 304, 416, 404, 400 Range syntax", async () => {
    const bytes = randomBytes(3 * CHUNK);
    expect((await put("docs/read.bin", bytes)).status).toBe(201);
    const target = "/v1/objects/docs/read.bin";
    for (const method of ["GET", "HEAD"]) {
      expect((await signed(method, target)).status).toBe(200);
      expect((await signed(method, target, { headers: { Range: "bytes=10-70000" } })).status).toBe(206);
      expect((await signed(method, target, { headers: { "If-None-Match": `"${sha256Hex(bytes)}"` } })).status).toBe(304);
      expect((await signed(method, target, { headers: { Range: `bytes=${3 * CHUNK}-` } })).status).toBe(416);
      expect((await signed(method, "/v1/objects/docs/absent.bin")).status).toBe(404);
      expect((await signed(method, target, { headers: { Range: "bytes=a-b" } })).status).toBe(400);
    }
    // A text type is one the Workers platform compresses for clients that accept it; identity keeps the stored bytes.
    const text = new TextEncoder().encode("plain text ".repeat(100));
    expect((await put("docs/read.txt", text, { "content-type": "text/plain" })).status).toBe(201);
    const asStored = await signed("GET", "/v1/objects/docs/read.txt", { headers: { "Accept-Encoding": "identity" } });
    expect(asStored.headers.get("content-length")).toBe(String(text.length));
    expect(new Uint8Array(await asStored.arrayBuffer())).toEqual(text);
    expect((await signed("GET", "/v1/objects/docs/read.txt")).status).toBe(200);
  });

  it("GET /v1/objects/{key}: 502 integrity_failure when the stored blob was replaced by one of another size", async () => {
    const { version } = (await (await put("docs/tampered.bin", randomBytes(CHUNK))).json()) as { version: string };
    const manifest = (await gateway.kv.get(`ver:${version}`, "json")) as { blob: string };
    await gateway.bucket.put(manifest.blob, randomBytes(CHUNK + 1));
    expect(await problemOf(await signed("GET", "/v1/objects/docs/tampered.bin"))).toEqual({ status: 502, code: "integrity_failure" });
  });

  it("DELETE /v1/objects/{key} and GET /v1/objects: 204, 404, a paged list, 400 for a bad limit, 403 outside the caller's scopes", async () => {
    expect((await put("docs/gone.bin", randomBytes(10))).status).toBe(201);
    expect((await signed("DELETE", "/v1/objects/docs/gone.bin")).status).toBe(204);
    expect(await problemOf(await signed("DELETE", "/v1/objects/docs/gone.bin"))).toEqual({ status: 404, code: "not_found" });
    const page = await signed("GET", "/v1/objects?prefix=docs/&limit=1");
    const { cursor } = (await page.json()) as { cursor: string | null };
    expect(cursor).not.toBeNull();
    expect((await signed("GET", `/v1/objects?prefix=docs/&cursor=${encodeURIComponent(cursor!)}`)).status).toBe(200);
    expect(await problemOf(await signed("GET", "/v1/objects?limit=lots"))).toEqual({ status: 400, code: "bad_request" });
    const pair = await newEd25519Key();
    const scoped = { keyid: "openapi-scoped", alg: "ed25519", public_key: pair.publicKey, scopes: [{ prefix: "x/", actions: ["read"] }] };
    expect((await signed("POST", "/v1/keys", { body: json(scoped), headers: JSON_HEADERS })).status).toBe(201);
    const as = { keyid: "openapi-scoped", key: { alg: "ed25519" as const, privateKey: pair.privateKey } };
    expect(await problemOf(await signed("GET", "/v1/objects?prefix=docs/", { as }))).toEqual({ status: 403, code: "forbidden" });
  });

  it("POST /v1/presign: 200, 403 storage disabled, 404, 400", async () => {
    expect((await presign({ key: "docs/a.bin", single_use: true })).status).toBe(200);
    expect(await problemOf(await presign({ key: "docs/a.bin", mode: "storage" }))).toEqual({ status: 403, code: "presign_storage_disabled" });
    expect(await problemOf(await presign({ key: "docs/absent.bin" }))).toEqual({ status: 404, code: "not_found" });
    expect(await problemOf(await presign({ key: "docs/a.bin", expires_in: 0 }))).toEqual({ status: 400, code: "bad_request" });
    expect(await problemOf(await presign({ key: "docs//a.bin" }))).toEqual({ status: 400, code: "invalid_key_name" });
  });

  it("GET and HEAD /v1/dl/{token}: 200, 206, 304, 404 for a damaged token, 410 used, revoked and expired", async () => {
    const link = await linkPath({ key: "docs/a.bin" });
    for (const method of ["HEAD", "GET"]) {
      expect((await unsigned(method, link)).status).toBe(200);
      expect((await unsigned(method, link, { Range: "bytes=0-9" })).status).toBe(206);
      expect((await unsigned(method, link, { "If-None-Match": "*" })).status).toBe(304);
      expect((await unsigned(method, `${link}x`)).status).toBe(404);
    }
    const once = await linkPath({ key: "docs/a.bin", single_use: true });
    expect((await unsigned("GET", once)).status).toBe(200);
    expect(await problemOf(await unsigned("GET", once))).toEqual({ status: 410, code: "link_used" });
    const pair = await newEd25519Key();
    const issuer = { keyid: "openapi-issuer", alg: "ed25519", public_key: pair.publicKey, scopes: [{ prefix: "docs/", actions: ["read", "presign"] }] };
    expect((await signed("POST", "/v1/keys", { body: json(issuer), headers: JSON_HEADERS })).status).toBe(201);
    const revoked = await linkPath({ key: "docs/a.bin" }, { keyid: "openapi-issuer", key: { alg: "ed25519", privateKey: pair.privateKey } });
    expect((await signed("DELETE", "/v1/keys/openapi-issuer")).status).toBe(204);
    expect(await problemOf(await unsigned("GET", revoked))).toEqual({ status: 410, code: "link_revoked" });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiringIssuedAt + LINK_EXPIRED_AFTER_MS - Date.now())));
    expect(await problemOf(await unsigned("GET", expiring))).toEqual({ status: 410, code: "link_expired" });
  });

  it("a route the document does not name answers a problem", async () => {
    expect(await problemOf(await signed("GET", "/v1/nothing-here"))).toEqual({ status: 404, code: "not_found" });
    expect(await problemOf(await unsigned("GET", "/nothing-here"))).toEqual({ status: 404, code: "not_found" });
  });
});

describe.each(RUNTIMES)("on %s, misconfigured", (_runtime, start) => {
  let gateway: GatewayHarness;

  beforeAll(async () => {
    gateway = await start({ AUTH_MODE: "sometimes" });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("answers /healthz 503 with its problems, still serves /openapi.json, and 503 misconfigured elsewhere", async () => {
    for (const [target, status] of [
      ["/healthz", 503],
      ["/openapi.json", 200],
      ["/v1/whoami", 503],
      ["/v1/dl/a.b", 503],
    ] as const) {
      const response = await fetch(new URL(target, gateway.origin));
      await checkResponse("GET", target, response);
      expect(response.status).toBe(status);
    }
  });
});
