import { createSigner, createVerifier, httpbis } from "http-message-signatures";
import { describe, expect, it } from "vitest";
import { sha256, toBase64 } from "../../shared/crypto/encoding.ts";
import {
  buildSignatureBase,
  checkFreshness,
  checkProfile,
  messageFromRequest,
  parseSignatureHeaders,
  type SigningKey,
  signRequest,
  type VerificationKey,
  verifySignature,
} from "../../shared/signature/index.ts";
import { generateEd25519Key } from "../../client/sdk/keys.ts";
import { pem } from "../support/keys.ts";

// Interoperability with an independent RFC 9421 implementation (dhensby/node-http-message-signatures),
// which signs and verifies with Node's own crypto rather than our WebCrypto code.

const COVERED = ["@method", "@authority", "@path", "@query", "content-digest"];
const WINDOW = { clockSkewSeconds: 30, maxSignatureAgeSeconds: 300 };
const URL_SIGNED = "https://gw.example/v1/objects/team-a/data.json?x=1&y=two";
const BODY = new TextEncoder().encode('{"hello": "world"}');

interface KeyMaterial {
  alg: "ed25519" | "hmac-sha256";
  keyid: string;
  ours: SigningKey;
  ourVerification: VerificationKey;
  /** What the independent library takes: a PEM for ed25519, the raw secret for HMAC. */
  theirSigning: unknown;
  theirVerification: unknown;
}

async function keyMaterial(alg: "ed25519" | "hmac-sha256"): Promise<KeyMaterial> {
  const keyid = `interop-${alg}`;
  if (alg === "hmac-sha256") {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    return { alg, keyid, ours: { alg, secret }, ourVerification: { alg, secret }, theirSigning: secret, theirVerification: secret };
  }
  const { pair } = await generateEd25519Key();
  return {
    alg,
    keyid,
    ours: { alg, privateKey: pair.privateKey },
    ourVerification: { alg, publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)) },
    theirSigning: pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
    theirVerification: pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", pair.publicKey)),
  };
}

/** Our gateway-side pipeline, in the order of PROTOCOL section 1. */
async function ourVerify(request: Request, body: Uint8Array | undefined, key: VerificationKey, nowSeconds: number): Promise<boolean> {
  const parsed = parseSignatureHeaders(request.headers.get("signature-input"), request.headers.get("signature"));
  const profiled = checkProfile(parsed, { hasBody: body !== undefined });
  checkFreshness(profiled.params, nowSeconds, WINDOW);
  const base = buildSignatureBase(messageFromRequest(request), profiled.components, profiled.signatureParams);
  return verifySignature(base, profiled.signature, key);
}

describe.each(["ed25519", "hmac-sha256"] as const)("%s", (alg) => {
  it("a request signed by http-message-signatures verifies with our parse, profile, base and verify", async () => {
    const keys = await keyMaterial(alg);
    const now = Math.floor(Date.now() / 1000);
    const nonce = toBase64(crypto.getRandomValues(new Uint8Array(24)));
    const signed = await httpbis.signMessage(
      {
        key: createSigner(keys.theirSigning as string, alg, keys.keyid),
        fields: COVERED,
        params: ["created", "expires", "keyid", "alg", "nonce"],
        paramValues: { created: new Date(now * 1000), expires: new Date((now + 60) * 1000), nonce },
      },
      {
        method: "PUT",
        url: URL_SIGNED,
        headers: { "content-type": "application/json", "content-digest": `sha-256=:${toBase64(await sha256(BODY))}:` },
      },
    );
    const headers = signed.headers as Record<string, string>;
    expect(headers["Signature-Input"]).toContain(`nonce="${nonce}"`);

    const request = new Request(URL_SIGNED, { method: "PUT", headers, body: BODY });
    expect(await ourVerify(request, BODY, keys.ourVerification, now)).toBe(true);

    const moved = new Request(URL_SIGNED.replace("data.json", "other.json"), { method: "PUT", headers, body: BODY });
    expect(await ourVerify(moved, BODY, keys.ourVerification, now)).toBe(false);
  });

  it("signRequest given the body's SHA-256 signs exactly the headers it signs given the body", async () => {
    // The SDK, the CLI and the bench stream large bodies and pass only the digest; the wire must not tell.
    const keys = await keyMaterial(alg);
    const fixed = { method: "PUT", url: URL_SIGNED, key: keys.ours, keyid: keys.keyid, created: 1_700_000_000, nonce: "fixed-nonce", alg: true };
    const fromBody = await signRequest({ ...fixed, body: BODY });
    const fromDigest = await signRequest({ ...fixed, bodySha256: await sha256(BODY) });
    expect(Object.entries(fromDigest.headers)).toEqual(Object.entries(fromBody.headers));
    expect(fromBody.headers["Content-Digest"]).toBe(`sha-256=:${toBase64(await sha256(BODY))}:`);
    expect(fromBody.headers["Signature-Input"]).toContain('"content-digest"');
  });

  it("a request signed by our sign.ts verifies with http-message-signatures", async () => {
    const keys = await keyMaterial(alg);
    const { headers } = await signRequest({
      method: "PUT",
      url: URL_SIGNED,
      body: BODY,
      key: keys.ours,
      keyid: keys.keyid,
      expires: Math.floor(Date.now() / 1000) + 60,
      alg: true,
    });
    const config = {
      keyLookup: async (params: { keyid?: unknown }) =>
        params.keyid === keys.keyid ? { id: keys.keyid, algs: [alg], verify: createVerifier(keys.theirVerification as string, alg) } : null,
      requiredFields: COVERED,
      requiredParams: ["created", "keyid", "nonce", "alg"],
      tolerance: WINDOW.clockSkewSeconds,
      maxAge: WINDOW.maxSignatureAgeSeconds,
    };
    const sent = { method: "PUT", url: URL_SIGNED, headers: { ...headers, "content-type": "application/json" } };
    expect(await httpbis.verifyMessage(config, sent)).toBe(true);
    expect(await httpbis.verifyMessage(config, { ...sent, method: "POST" })).toBe(false);
  });
});
