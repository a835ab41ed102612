import { describe, expect, it } from "vitest";
import { fromBase64, fromHex, sha256, toHex, utf8 } from "../../shared/crypto/encoding.ts";
import { hasBody } from "../../functions/middleware/body.ts";
import { parseObjectKey } from "../../shared/objects/key.ts";
import {
  buildSignatureBase,
  checkFreshness,
  checkProfile,
  contentDigest,
  contentDigestOfSha256,
  messageFromRequest,
  parseSignatureHeaders,
  verifySignature,
  type VerificationKey,
} from "../../shared/signature/index.ts";
import {
  ed25519Thumbprint,
  generateEd25519Key,
  importJwk,
  integrityOf,
  VerigateApiError,
  VerigateClient,
  VerigateIntegrityError,
  VerigateUsageError,
  verifyBytes,
} from "../../client/sdk/index.ts";

const WINDOW = { clockSkewSeconds: 30, maxSignatureAgeSeconds: 300 };

/** A client whose fetch records the Request it would send (the URL as fetch normalises it) and answers `reply`. */
async function recordingClient(endpoint = "http://127.0.0.1:8787", reply: () => Response = () => Response.json({}), clockOffsetSeconds = 0) {
  const { jwk } = await generateEd25519Key();
  const sent: { request: Request; body: Uint8Array }[] = [];
  const client = new VerigateClient({
    endpoint,
    key: await importJwk(jwk),
    clockOffsetSeconds,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      sent.push({ request, body: new Uint8Array(await request.clone().arrayBuffer()) });
      return reply();
    },
  });
  const verificationKey: VerificationKey = { alg: "ed25519", publicKey: fromBase64(jwk.x) };
  return { client, sent, verificationKey, keyid: jwk.kid };
}

/** The gateway's verification pipeline (functions/middleware/auth.ts) minus the stores: parse, profile, freshness, signature. */
async function gatewayAccepts(request: Request, key: VerificationKey): Promise<{ components: string[]; created: number; nonce: string; keyid: string }> {
  const parsed = parseSignatureHeaders(request.headers.get("signature-input"), request.headers.get("signature"));
  const profiled = checkProfile(parsed, { hasBody: hasBody(request) });
  checkFreshness(profiled.params, Math.floor(Date.now() / 1000), WINDOW);
  const base = buildSignatureBase(messageFromRequest(request), profiled.components, profiled.signatureParams);
  expect(await verifySignature(base, profiled.signature, key)).toBe(true);
  return { components: profiled.components, created: profiled.params.created, nonce: profiled.params.nonce, keyid: profiled.params.keyid };
}

describe("the SDK's signed requests", () => {
  it("sign a GET the gateway's verifier accepts, covering method, authority, path and query", async () => {
    const { client, sent, verificationKey, keyid } = await recordingClient();
    await client.listObjects({ prefix: "team a/ü&x", limit: 5 });
    const [{ request }] = sent as [(typeof sent)[0]];
    expect(new URL(request.url).searchParams.get("prefix")).toBe("team a/ü&x");
    const accepted = await gatewayAccepts(request, verificationKey);
    expect(accepted.components).toEqual(["@method", "@authority", "@path", "@query"]);
    expect(accepted.keyid).toBe(keyid);
  });

  it("sign a PUT with its body's Content-Digest covered, and the gateway's verifier accepts it", async () => {
    const { client, sent, verificationKey } = await recordingClient(undefined, () => Response.json({}, { status: 201 }));
    const bytes = crypto.getRandomValues(new Uint8Array(60_000));
    await client.putObject("team-a/blob.bin", bytes, { contentType: "application/x-test" });
    const [{ request, body }] = sent as [(typeof sent)[0]];
    expect(body).toEqual(bytes);
    expect(request.headers.get("content-digest")).toBe(await contentDigest(bytes));
    expect(request.headers.get("content-type")).toBe("application/x-test");
    expect((await gatewayAccepts(request, verificationKey)).components).toContain("content-digest");
  });

  it("sign a streamed PUT with the declared digest and send its Content-Length", async () => {
    const { client, sent, verificationKey } = await recordingClient(undefined, () => Response.json({}, { status: 201 }));
    const bytes = crypto.getRandomValues(new Uint8Array(1000));
    const stream = new Blob([bytes]).stream();
    await client.putObject("k", stream, { sha256: toHex(await sha256(bytes)), size: bytes.length });
    const [{ request, body }] = sent as [(typeof sent)[0]];
    expect(body).toEqual(bytes);
    expect(request.headers.get("content-length")).toBe("1000");
    expect(request.headers.get("content-digest")).toBe(await contentDigest(bytes));
    await gatewayAccepts(request, verificationKey);
  });

  it("sign the WHATWG-normalised URL that fetch sends, not the endpoint as typed", async () => {
    const { client, sent, verificationKey } = await recordingClient("HTTP://LocalHost:80//");
    await client.whoami();
    const [{ request }] = sent as [(typeof sent)[0]];
    expect(request.url).toBe("http://localhost/v1/whoami");
    expect(messageFromRequest(request).authority).toBe("localhost");
    expect(request.headers.get("signature-input")).toBeTruthy();
    await gatewayAccepts(request, verificationKey);
  });

  it("encode an object key so the gateway's single decode gives it back, and sign that path", async () => {
    const { client, sent, verificationKey } = await recordingClient();
    const key = "dir/a b%2e?#é+;x";
    await client.deleteObject(key);
    const [{ request }] = sent as [(typeof sent)[0]];
    const path = messageFromRequest(request).path;
    expect(parseObjectKey(path.slice("/v1/objects/".length))).toBe(key);
    await gatewayAccepts(request, verificationKey);
  });

  it("draw a fresh nonce for every request", async () => {
    const { client, verificationKey } = await recordingClient();
    const first = await client.prepare("GET", "/v1/whoami");
    const second = await client.prepare("GET", "/v1/whoami");
    const nonces = await Promise.all(
      [first, second].map(async (prepared) => (await gatewayAccepts(new Request(prepared.url, { headers: prepared.headers }), verificationKey)).nonce),
    );
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  it("shift `created` by the clock offset", async () => {
    const { client, sent } = await recordingClient(undefined, undefined, -3600);
    await client.whoami();
    const [{ request }] = sent as [(typeof sent)[0]];
    const { params } = parseSignatureHeaders(request.headers.get("signature-input"), request.headers.get("signature"));
    expect(Math.abs((params.created ?? 0) - (Math.floor(Date.now() / 1000) - 3600))).toBeLessThanOrEqual(2);
  });

  it("sign with an HMAC key file (kty oct) the gateway verifies with the same secret", async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const key = await importJwk({ kty: "oct", k: Buffer.from(secret).toString("base64url"), kid: "ci" });
    let captured: Request | undefined;
    const client = new VerigateClient({
      endpoint: "https://gw.example",
      key,
      fetch: async (input, init) => ((captured = new Request(input, init)), Response.json({})),
    });
    await client.whoami();
    await gatewayAccepts(captured!, { alg: "hmac-sha256", secret });
  });

  it("refuse an empty or dot segment before sending, since the URL parser would change the key", async () => {
    const { client, sent } = await recordingClient();
    for (const key of ["a/../b", "a//b", "./a", "a/"]) await expect(client.getObject(key)).rejects.toBeInstanceOf(VerigateUsageError);
    expect(sent).toHaveLength(0);
  });
});

describe("the SDK's errors and integrity checks", () => {
  it("carry the problem+json code, status and request id", async () => {
    const problem = { type: "urn:verigate:error:forbidden", title: "no", status: 403, code: "forbidden", request_id: "req-1" };
    const { client } = await recordingClient(undefined, () =>
      Response.json(problem, { status: 403, headers: { "content-type": "application/problem+json", "x-request-id": "req-1" } }),
    );
    const error = await client.whoami().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VerigateApiError);
    expect(error).toMatchObject({ status: 403, code: "forbidden", requestId: "req-1" });
  });

  it("name a bodiless 404 (a HEAD) not_found", async () => {
    const { client } = await recordingClient(undefined, () => new Response(null, { status: 404, headers: { "x-request-id": "r" } }));
    await expect(client.headObject("missing")).rejects.toMatchObject({ status: 404, code: "not_found", requestId: "r" });
  });

  it("refuse a response whose ETag and Repr-Digest name different bytes", async () => {
    const digest = await sha256(utf8("one"));
    const headers = new Headers({ "repr-digest": contentDigestOfSha256(digest), etag: `"${toHex(await sha256(utf8("two")))}"`, "content-length": "3" });
    expect(() => integrityOf(headers)).toThrow(VerigateIntegrityError);
    headers.set("etag", `"${toHex(digest)}"`);
    expect(integrityOf(headers)).toMatchObject({ sha256: toHex(digest), size: 3 });
  });

  it("resume a read only from the asked byte of the pinned version: a 206 from elsewhere, or of another ETag, is refused", async () => {
    const object = utf8("0123456789");
    const etag = `"${toHex(await sha256(object))}"`;
    const partial =
      (range: string, tag = etag) =>
      () =>
        new Response(object.subarray(Number(range.split(/[ -]/)[1])), {
          status: 206,
          headers: { "repr-digest": contentDigestOfSha256(fromHex(tag.slice(1, -1))), etag: tag, "content-length": "5", "content-range": range },
        });
    const asked = { offset: 5, etag: toHex(await sha256(object)) };
    const { client, sent } = await recordingClient(undefined, partial("bytes 5-9/10"));
    await expect(client.resumeObject("k", asked)).resolves.toMatchObject({ resumed: true, integrity: { offset: 5, size: 10 } });
    expect(sent[0]?.request.headers.get("range")).toBe("bytes=5-");
    expect(sent[0]?.request.headers.get("if-range")).toBe(etag);
    const elsewhere = await recordingClient(undefined, partial("bytes 3-9/10"));
    await expect(elsewhere.client.resumeObject("k", asked)).rejects.toMatchObject({ reason: "unverifiable" });
    const other = `"${toHex(await sha256(utf8("another")))}"`;
    const changed = await recordingClient(undefined, partial("bytes 5-9/10", other));
    await expect(changed.client.resumeObject("k", asked)).rejects.toMatchObject({ reason: "unverifiable" });
  });

  it("verify bytes against digest and size", async () => {
    const expected = { sha256: toHex(await sha256(utf8("abc"))), size: 3 };
    await expect(verifyBytes(utf8("abc"), expected)).resolves.toBeUndefined();
    await expect(verifyBytes(utf8("abd"), expected)).rejects.toMatchObject({ reason: "digest_mismatch" });
    await expect(verifyBytes(utf8("ab"), expected)).rejects.toMatchObject({ reason: "short_response" });
  });

  it("decode hex exactly as toHex encodes it, and refuse what is not hex", () => {
    const bytes = Uint8Array.from([0, 1, 0x7f, 0x80, 0xab, 0xff]);
    expect(fromHex(toHex(bytes))).toEqual(bytes);
    expect(fromHex("ABff")).toEqual(Uint8Array.from([0xab, 0xff]));
    for (const bad of ["abc", "zz", "0x00", "a b "]) expect(() => fromHex(bad)).toThrow(TypeError);
  });

  it("compute Content-Digest as RFC 9530's example does", async () => {
    // RFC 9530 section 2: the sha-256 Content-Digest of the body {"hello": "world"}.
    expect(contentDigestOfSha256(await sha256(utf8('{"hello": "world"}')))).toBe("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
  });

  it("name a generated key by its RFC 7638 thumbprint", async () => {
    const { jwk } = await generateEd25519Key();
    expect(jwk.kid).toBe(await ed25519Thumbprint(jwk.x));
    expect((await generateEd25519Key("laptop")).jwk.kid).toBe("laptop");
  });
});
