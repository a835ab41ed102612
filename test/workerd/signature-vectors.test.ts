import { describe, expect, it } from "vitest";
import { fromBase64 } from "../../shared/crypto/encoding.ts";
import {
  buildSignatureBase,
  checkFreshness,
  checkProfile,
  contentDigest,
  messageFromRequest,
  parseContentDigest,
  parseSignatureHeaders,
  type SignedMessage,
  type SigningKey,
  signRequest,
  type VerificationKey,
  verifySignature,
} from "../../shared/signature/index.ts";

// RFC 9421 Appendix B, as transcribed and re-verified in shared/RFC9421-VECTORS.md.
const TEST_SHARED_SECRET = fromBase64("uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==");
const TEST_KEY_ED25519_X = fromBase64("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs");
const TEST_KEY_ED25519_SPKI = fromBase64("MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=");
const HELLO_BODY = new TextEncoder().encode('{"hello": "world"}');

function testRequest(): SignedMessage {
  const request = new Request("https://example.com/foo?param=Value&Pet=dog", {
    method: "POST",
    headers: {
      Host: "example.com",
      Date: "Tue, 20 Apr 2021 02:07:55 GMT",
      "Content-Type": "application/json",
      "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
      "Content-Length": "18",
    },
    body: HELLO_BODY,
  });
  return messageFromRequest(request);
}

interface Vector {
  name: string;
  signatureInput: string;
  signature: string;
  base: string;
  key: VerificationKey;
}

const VECTORS: Vector[] = [
  {
    name: "B.2.5 hmac-sha256",
    signatureInput: 'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
    signature: "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:",
    base: [
      '"date": Tue, 20 Apr 2021 02:07:55 GMT',
      '"@authority": example.com',
      '"content-type": application/json',
      '"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
    ].join("\n"),
    key: { alg: "hmac-sha256", secret: TEST_SHARED_SECRET },
  },
  {
    name: "B.2.6 ed25519",
    signatureInput: 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    signature: "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
    base: [
      '"date": Tue, 20 Apr 2021 02:07:55 GMT',
      '"@method": POST',
      '"@path": /foo',
      '"@authority": example.com',
      '"content-type": application/json',
      '"content-length": 18',
      '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    ].join("\n"),
    key: { alg: "ed25519", publicKey: TEST_KEY_ED25519_X },
  },
];

describe.each(VECTORS)("RFC 9421 $name", (vector) => {
  const parse = () => parseSignatureHeaders(vector.signatureInput, vector.signature);

  it("builds the vector's signature base byte for byte", () => {
    const parsed = parse();
    expect(buildSignatureBase(testRequest(), parsed.components, parsed.signatureParams)).toBe(vector.base);
  });

  it("verifies the vector's signature", async () => {
    const parsed = parse();
    const base = buildSignatureBase(testRequest(), parsed.components, parsed.signatureParams);
    expect(await verifySignature(base, parsed.signature, vector.key)).toBe(true);
  });

  it("rejects the signature with one byte flipped", async () => {
    const parsed = parse();
    const tampered = parsed.signature.slice();
    tampered[7] = (tampered[7] ?? 0) ^ 0x01;
    expect(await verifySignature(vector.base, tampered, vector.key)).toBe(false);
  });

  it("rejects a base with one character changed", async () => {
    const parsed = parse();
    const changed = vector.base.replace("example.com", "example.con");
    expect(changed).not.toBe(vector.base);
    expect(await verifySignature(changed, parsed.signature, vector.key)).toBe(false);
  });

  it("fails Verigate's profile, which is applied separately (no nonce, no @query)", () => {
    expect(() => checkProfile(parse(), { hasBody: true })).toThrow(expect.objectContaining({ code: "malformed_signature" }));
  });
});

it("the ed25519 test key's JWK x is the key inside its SPKI", () => {
  expect(TEST_KEY_ED25519_SPKI.slice(-32)).toEqual(TEST_KEY_ED25519_X);
});

describe("RFC 9530 Content-Digest", () => {
  it('digests {"hello": "world"} as the RFC does', async () => {
    expect(await contentDigest(HELLO_BODY)).toBe("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
  });

  it("reads the sha-256 member and ignores others", () => {
    const header =
      "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:, sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
    expect(parseContentDigest(header)).toEqual(fromBase64("X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="));
  });

  it("returns null when only other algorithms are declared", () => {
    expect(parseContentDigest("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")).toBeNull();
  });

  it.each(["sha-256=X48E", "sha-256=:AAAA:", "not a dictionary ("])("rejects %j as bad_request", (header) => {
    expect(() => parseContentDigest(header)).toThrow(expect.objectContaining({ code: "bad_request" }));
  });
});

describe("sign.ts round trip", () => {
  const NOW_SECONDS = 1_763_800_000;
  const WINDOW = { clockSkewSeconds: 30, maxSignatureAgeSeconds: 300 };

  async function keys(alg: "ed25519" | "hmac-sha256"): Promise<{ signing: SigningKey; verification: VerificationKey; other: VerificationKey }> {
    if (alg === "hmac-sha256") {
      const secret = crypto.getRandomValues(new Uint8Array(32));
      const other = crypto.getRandomValues(new Uint8Array(32));
      return { signing: { alg, secret }, verification: { alg, secret }, other: { alg, secret: other } };
    }
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const otherPair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const raw = async (key: CryptoKey) => new Uint8Array((await crypto.subtle.exportKey("raw", key)) as ArrayBuffer);
    return {
      signing: { alg, privateKey: pair.privateKey },
      verification: { alg, publicKey: await raw(pair.publicKey) },
      other: { alg, publicKey: await raw(otherPair.publicKey) },
    };
  }

  it.each(["ed25519", "hmac-sha256"] as const)("%s: a request signed by sign.ts passes parse, profile, freshness and verify", async (alg) => {
    const { signing, verification, other } = await keys(alg);
    const url = "https://gw.example/v1/objects/team-a/report%20v2.pdf?x=1";
    const { headers } = await signRequest({
      method: "PUT",
      url,
      body: HELLO_BODY,
      key: signing,
      keyid: "k1",
      created: NOW_SECONDS,
      expires: NOW_SECONDS + 60,
      alg: true,
    });
    expect(headers["Content-Digest"]).toBe("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");

    const request = new Request(url, { method: "PUT", headers, body: HELLO_BODY });
    const parsed = parseSignatureHeaders(request.headers.get("signature-input"), request.headers.get("signature"));
    const profiled = checkProfile(parsed, { hasBody: true });
    expect(profiled.params).toMatchObject({ keyid: "k1", alg, created: NOW_SECONDS, expires: NOW_SECONDS + 60 });
    expect(profiled.components).toEqual(["@method", "@authority", "@path", "@query", "content-digest"]);
    checkFreshness(profiled.params, NOW_SECONDS, WINDOW);

    const base = buildSignatureBase(messageFromRequest(request), profiled.components, profiled.signatureParams);
    expect(base).toContain('"@path": /v1/objects/team-a/report%20v2.pdf\n"@query": ?x=1\n');
    expect(await verifySignature(base, profiled.signature, verification)).toBe(true);
    expect(await verifySignature(base, profiled.signature, other)).toBe(false);
  });

  it("draws a fresh base64url nonce of 32 bytes for every signature", async () => {
    const { signing } = await keys("hmac-sha256");
    const nonces = await Promise.all(
      [1, 2].map(async () => {
        const { headers } = await signRequest({ method: "GET", url: "https://gw.example/v1/whoami", key: signing, keyid: "k1" });
        return parseSignatureHeaders(headers["Signature-Input"] ?? null, headers["Signature"] ?? null).params.nonce;
      }),
    );
    expect(nonces[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(nonces[0]).not.toBe(nonces[1]);
  });
});
