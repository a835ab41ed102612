import { describe, expect, it } from "vitest";
import { fromBase64, toBase64 } from "../../shared/crypto/encoding.ts";
import { HMAC_SHA256_BYTES, REQUIRED_COMPONENTS, signRequest } from "../../shared/signature/index.ts";
import { newEd25519Key } from "../support/keys.ts";
import { ORIGIN, testGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

const FRESH_NONCE = "A".repeat(20) + crypto.randomUUID().replace(/-/g, "");

describe("signed requests through the gateway", () => {
  it("accepts a signed whoami from a bootstrap admin key", async () => {
    const gateway = await testGateway();
    const response = await gateway.signed("GET", "/v1/whoami");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      keyid: gateway.admin.keyid,
      alg: "ed25519",
      scopes: [{ prefix: "", actions: ["read", "write", "delete", "list", "presign"] }],
      admin: true,
    });
  });

  it("answers 401 signature_missing without a signature", async () => {
    const gateway = await testGateway();
    expect(await problemOf(await gateway.fetch(new Request(`${ORIGIN}/v1/whoami`)))).toMatchObject({ status: 401, code: "signature_missing" });
  });

  it("answers 400 malformed_signature for an unparsable Signature-Input", async () => {
    const gateway = await testGateway();
    const response = await gateway.fetch(new Request(`${ORIGIN}/v1/whoami`, { headers: { "signature-input": "sig1=(((", signature: "sig1=:AAAA:" } }));
    expect(await problemOf(response)).toMatchObject({ status: 400, code: "malformed_signature" });
  });

  it("answers 400 malformed_signature when @query is not covered", async () => {
    const gateway = await testGateway();
    const { headers } = await signRequest({
      method: "GET",
      url: `${ORIGIN}/v1/whoami`,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
      components: ["@method", "@authority", "@path"],
    });
    expect(await problemOf(await gateway.fetch(new Request(`${ORIGIN}/v1/whoami`, { headers })))).toMatchObject({ status: 400, code: "malformed_signature" });
  });

  // Regression (issue #10, finding 7): the gateway re-serialises the parameters it parsed, so a client that signed
  // `created=N` but sent `created=N.0` was accepted.
  it("answers 400 malformed_signature for a Decimal created, even when the signature covers its Integer form", async () => {
    const gateway = await testGateway();
    const url = `${ORIGIN}/v1/whoami`;
    const { headers } = await signRequest({ method: "GET", url, key: gateway.admin.key, keyid: gateway.admin.keyid, created: Math.floor(gateway.now / 1000) });
    const decimal = { ...headers, "Signature-Input": headers["Signature-Input"]!.replace(/created=(\d+)/, "created=$1.0") };
    expect(decimal["Signature-Input"]).toMatch(/created=\d+\.0;/);
    expect(await problemOf(await gateway.fetch(new Request(url, { headers: decimal })))).toMatchObject({ status: 400, code: "malformed_signature" });
    expect((await gateway.fetch(new Request(url, { headers }))).status).toBe(200);
  });

  // Decision (issue #10, finding 7): a signature base with a byte outside ASCII is refused, not normalised, since
  // runtimes hand header bytes over as Latin-1 while a signer may have meant UTF-8.
  it("answers 400 malformed_signature when a covered field holds a byte outside ASCII, even signed exactly over it", async () => {
    const gateway = await testGateway();
    const url = `${ORIGIN}/v1/whoami`;
    const components = ["@method", "@authority", "@path", "@query", "x-note"];
    const created = Math.floor(gateway.now / 1000);
    const ascii = await signRequest({
      method: "GET",
      url,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created,
      components,
      headers: { "x-note": "cafe" },
    });
    expect((await gateway.fetch(new Request(url, { headers: { ...ascii.headers, "x-note": "cafe" } }))).status).toBe(200);

    const signatureInput = ascii.headers["Signature-Input"]!.replace(/nonce="[^"]+"/, `nonce="${FRESH_NONCE}"`);
    const base = [
      '"@method": GET',
      '"@authority": gateway.test',
      '"@path": /v1/whoami',
      '"@query": ?',
      '"x-note": caf\u00e9',
      `"@signature-params": ${signatureInput.slice(signatureInput.indexOf("=") + 1)}`,
    ].join("\n");
    const privateKey = (gateway.admin.key as { privateKey: CryptoKey }).privateKey;
    const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, new TextEncoder().encode(base)));
    const headers = { "Signature-Input": signatureInput, Signature: `sig1=:${toBase64(signature)}:`, "x-note": "caf\u00e9" };
    expect(await problemOf(await gateway.fetch(new Request(url, { headers })))).toMatchObject({ status: 400, code: "malformed_signature" });
  });

  // Regression (found by the fuzz suite): a covered field that is absent was 400 for an active key but 401 for an
  // unknown one, so the answer told whether a keyid exists without any valid signature.
  it("answers 400 malformed_signature to a base that cannot be built, whether or not the keyid exists", async () => {
    const gateway = await testGateway();
    const url = `${ORIGIN}/v1/whoami`;
    const components = ["@method", "@authority", "@path", "@query", "x-absent"];
    const stranger = await newEd25519Key();
    for (const signer of [gateway.admin, { keyid: "no-such-key", key: { alg: "ed25519" as const, privateKey: stranger.privateKey } }]) {
      const { headers } = await signRequest({
        method: "GET",
        url,
        key: signer.key,
        keyid: signer.keyid,
        created: Math.floor(gateway.now / 1000),
        components,
        headers: { "x-absent": "v" },
      });
      expect(await problemOf(await gateway.fetch(new Request(url, { headers })))).toMatchObject({ status: 400, code: "malformed_signature" });
    }
  });

  it("answers 401 signature_expired past max age plus skew, and accepts just inside it", async () => {
    const gateway = await testGateway();
    const nowSeconds = Math.floor(gateway.now / 1000);
    expect((await gateway.signed("GET", "/v1/whoami", { created: nowSeconds - 330 })).status).toBe(200);
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami", { created: nowSeconds - 331 }))).toMatchObject({ status: 401, code: "signature_expired" });
  });

  it("answers 401 signature_not_yet_valid beyond the clock skew, and accepts within it", async () => {
    const gateway = await testGateway();
    const nowSeconds = Math.floor(gateway.now / 1000);
    expect((await gateway.signed("GET", "/v1/whoami", { created: nowSeconds + 30 })).status).toBe(200);
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami", { created: nowSeconds + 31 }))).toMatchObject({
      status: 401,
      code: "signature_not_yet_valid",
    });
  });

  it("answers 401 signature_expired once `expires` plus skew has passed", async () => {
    const gateway = await testGateway();
    const nowSeconds = Math.floor(gateway.now / 1000);
    const response = await gateway.signed("GET", "/v1/whoami", { created: nowSeconds - 100, expires: nowSeconds - 31 });
    expect(await problemOf(response)).toMatchObject({ status: 401, code: "signature_expired" });
  });

  it("answers 401 signature_invalid for an unknown key, with the same code as a bad signature", async () => {
    const gateway = await testGateway();
    const stranger = await newEd25519Key();
    const unknown = await gateway.signed("GET", "/v1/whoami", { as: { keyid: "nobody", key: { alg: "ed25519", privateKey: stranger.privateKey } } });
    const wrongKey = await gateway.signed("GET", "/v1/whoami", {
      as: { keyid: gateway.admin.keyid, key: { alg: "ed25519", privateKey: stranger.privateKey } },
    });
    expect(await problemOf(unknown)).toMatchObject({ status: 401, code: "signature_invalid" });
    expect(await problemOf(wrongKey)).toMatchObject({ status: 401, code: "signature_invalid" });
  });

  it("answers 401 signature_invalid when the request was altered after signing", async () => {
    const gateway = await testGateway();
    const { headers } = await signRequest({
      method: "GET",
      url: `${ORIGIN}/v1/whoami`,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
    });
    const otherPath = await gateway.fetch(new Request(`${ORIGIN}/v1/keys`, { headers }));
    const otherQuery = await gateway.fetch(new Request(`${ORIGIN}/v1/whoami?x=1`, { headers }));
    const otherHost = await gateway.fetch(new Request("http://evil.test/v1/whoami", { headers }));
    const otherMethod = await gateway.fetch(new Request(`${ORIGIN}/v1/whoami`, { method: "DELETE", headers }));
    for (const response of [otherPath, otherQuery, otherHost, otherMethod]) {
      expect(await problemOf(response)).toMatchObject({ status: 401, code: "signature_invalid" });
    }
  });

  it("uses PUBLIC_ORIGIN's authority instead of the Host it sees", async () => {
    const gateway = await testGateway({ PUBLIC_ORIGIN: "https://files.example.org" });
    const signedFor = await signRequest({
      method: "GET",
      url: "https://files.example.org/v1/whoami",
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
    });
    expect((await gateway.fetch(new Request(`${ORIGIN}/v1/whoami`, { headers: signedFor.headers }))).status).toBe(200);
    const signedForInternal = await signRequest({
      method: "GET",
      url: `${ORIGIN}/v1/whoami`,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
    });
    expect((await gateway.fetch(new Request(`${ORIGIN}/v1/whoami`, { headers: signedForInternal.headers }))).status).toBe(401);
  });

  it("answers 401 signature_invalid to an HMAC signature altered in its first or its last byte, and accepts the genuine one", async () => {
    const gateway = await testGateway();
    const created = await gateway.signed("POST", "/v1/keys", { body: JSON.stringify({ keyid: "mac-user", alg: "hmac-sha256", scopes: [] }) });
    const { secret } = (await created.json()) as { secret: string };
    const as = { keyid: "mac-user", key: { alg: "hmac-sha256" as const, secret: fromBase64(secret) } };
    const signed = async (alter?: (mac: Uint8Array) => void) => {
      const url = `${ORIGIN}/v1/whoami`;
      const { headers } = await signRequest({ method: "GET", url, key: as.key, keyid: as.keyid, created: Math.floor(gateway.now / 1000) });
      const [, label, mac] = /^(\w+)=:([^:]+):$/.exec(headers.Signature!)!;
      const bytes = fromBase64(mac!);
      alter?.(bytes);
      return gateway.fetch(new Request(url, { headers: { ...headers, Signature: `${label}=:${toBase64(bytes)}:` } }));
    };
    expect((await signed()).status).toBe(200);
    for (const at of [0, HMAC_SHA256_BYTES - 1]) {
      const forged = await signed((mac) => void (mac[at] = mac[at]! ^ 1));
      expect(await problemOf(forged), `byte ${at}`).toMatchObject({ status: 401, code: "signature_invalid" });
    }
  });

  it("answers 401 replayed_request when the same (keyid, nonce) comes twice", async () => {
    const gateway = await testGateway();
    expect((await gateway.signed("GET", "/v1/whoami", { nonce: FRESH_NONCE })).status).toBe(200);
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami", { nonce: FRESH_NONCE }))).toMatchObject({ status: 401, code: "replayed_request" });
  });

  it("writes no nonce for a request that failed authentication", async () => {
    const gateway = await testGateway();
    const nonce = "B".repeat(22) + crypto.randomUUID().replace(/-/g, "");
    const stranger = await newEd25519Key();
    const forged = await gateway.signed("GET", "/v1/whoami", {
      nonce,
      as: { keyid: gateway.admin.keyid, key: { alg: "ed25519", privateKey: stranger.privateKey } },
    });
    expect(forged.status).toBe(401);
    // Had the forged request claimed the nonce, the genuine one would now be a replay.
    expect((await gateway.signed("GET", "/v1/whoami", { nonce })).status).toBe(200);
  });

  it("answers 400 digest_missing for a body without Content-Digest", async () => {
    const gateway = await testGateway();
    const { headers } = await signRequest({
      method: "POST",
      url: `${ORIGIN}/v1/keys`,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
      body: new TextEncoder().encode("{}"),
    });
    const { "Content-Digest": _dropped, ...withoutDigest } = headers;
    const response = await gateway.fetch(new Request(`${ORIGIN}/v1/keys`, { method: "POST", headers: withoutDigest, body: "{}" }));
    expect(await problemOf(response)).toMatchObject({ status: 400, code: "digest_missing" });
  });

  it("answers 400 malformed_signature to a PUT or POST whose signature leaves out its correct Content-Digest, and commits nothing", async () => {
    const gateway = await testGateway();
    const uncovered = { components: [...REQUIRED_COMPONENTS] };
    const put = await gateway.signed("PUT", "/v1/objects/uncovered/blob", { ...uncovered, body: "bytes", headers: { "content-length": "5" } });
    expect(await problemOf(put)).toMatchObject({ status: 400, code: "malformed_signature" });
    const post = await gateway.signed("POST", "/v1/keys", { ...uncovered, body: JSON.stringify({ keyid: "uncovered", alg: "hmac-sha256", scopes: [] }) });
    expect(await problemOf(post)).toMatchObject({ status: 400, code: "malformed_signature" });
    expect((await gateway.signed("GET", "/v1/objects/uncovered/blob")).status).toBe(404);
    expect((await gateway.signed("GET", "/v1/keys/uncovered")).status).toBe(404);
  });

  it("answers 400 digest_mismatch when the body differs from its signed digest", async () => {
    const gateway = await testGateway();
    const signedBody = JSON.stringify({ keyid: "digest-signed", alg: "hmac-sha256", scopes: [] });
    const { headers } = await signRequest({
      method: "POST",
      url: `${ORIGIN}/v1/keys`,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
      body: new TextEncoder().encode(signedBody),
      headers: { "content-type": "application/json" },
    });
    const sentBody = JSON.stringify({ keyid: "digest-sent", alg: "hmac-sha256", scopes: [{ prefix: "", actions: ["read"] }] });
    const response = await gateway.fetch(
      new Request(`${ORIGIN}/v1/keys`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: sentBody }),
    );
    expect(await problemOf(response)).toMatchObject({ status: 400, code: "digest_mismatch" });
    for (const keyid of ["digest-signed", "digest-sent"]) expect((await gateway.signed("GET", `/v1/keys/${keyid}`)).status).toBe(404);
  });
});

describe("requests without a body", () => {
  it("accept a signed DELETE that arrives with content-length 0 and an empty body stream (regression: wrangler dev sends it so)", async () => {
    const gateway = await testGateway();
    const user = await newEd25519Key();
    await gateway.signed("POST", "/v1/keys", { body: JSON.stringify({ keyid: "to-revoke", alg: "ed25519", public_key: user.publicKey, scopes: [] }) });
    const url = `${ORIGIN}/v1/keys/to-revoke`;
    const { headers } = await signRequest({
      method: "DELETE",
      url,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
    });
    const response = await gateway.fetch(new Request(url, { method: "DELETE", headers: { ...headers, "content-length": "0" }, body: new Uint8Array(0) }));
    expect(response.status).toBe(204);
  });
});
