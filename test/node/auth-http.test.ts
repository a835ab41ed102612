import { createSigner, httpbis } from "http-message-signatures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toBase64Url } from "../../shared/crypto/encoding.ts";
import { REQUIRED_COMPONENTS, SIGNER_NONCE_BYTES } from "../../shared/signature/index.ts";
import { newEd25519Key, pem } from "../support/keys.ts";
import { problemOf } from "../support/problem.ts";
import { RUNTIMES, type Runtime } from "./support/runtimes.ts";
import type { GatewayHarness, Signer } from "./support/wire.ts";

/** Enough copies of one signed request to overlap inside the replay store's claim, as a replayed burst would. */
const CONCURRENT_COPIES = 100;
/** An hour back: far outside the default window (MAX_SIGNATURE_AGE_SECONDS 300 plus CLOCK_SKEW_SECONDS 30). */
const STALE_SECONDS = 3_600;
const EVERY_ACTION = ["read", "write", "delete", "list", "presign"];

/**
 * What each harness reports in /healthz (deploy/LAMBDA.md, behaviour differences 9 and 19): its runtime and
 * backends differ by design, and the replay store is atomic on each (Durable Object; DynamoDB conditional put).
 */
const HEALTH: Record<Runtime, Record<string, unknown>> = {
  workers: { runtime: "workers", storage: { backend: "r2" }, replay_store: { backend: "durable-object", atomic: true } },
  node: { runtime: "node", storage: { backend: "s3" }, replay_store: { backend: "dynamodb", atomic: true } },
  lambda: { runtime: "lambda", storage: { backend: "s3" }, replay_store: { backend: "dynamodb", atomic: true } },
};

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Authentication, replay protection and authorization (PROTOCOL section 1), over real HTTP on each runtime. */
describe.each(RUNTIMES)("on %s", (runtime, start) => {
  let gateway: GatewayHarness;
  let user: Signer;

  beforeAll(async () => {
    gateway = await start();
    const pair = await newEd25519Key();
    const created = await gateway.signedFetch("POST", "/v1/keys", {
      body: json({ keyid: "contract-user", alg: "ed25519", public_key: pair.publicKey, scopes: [{ prefix: "", actions: EVERY_ACTION }] }),
      headers: { "content-type": "application/json" },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    user = { keyid: "contract-user", key: { alg: "ed25519", privateKey: pair.privateKey } };
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const whoamiUrl = () => `${gateway.origin}/v1/whoami`;

  it("serves /healthz without a signature, naming its runtime and an atomic replay store", async () => {
    const response = await fetch(`${gateway.origin}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", auth_mode: "enforce", ...HEALTH[runtime] });
  });

  it("answers a signed whoami with the caller's key record", async () => {
    const response = await gateway.signedFetch("GET", "/v1/whoami");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keyid: gateway.admin.keyid, alg: "ed25519", scopes: [{ prefix: "", actions: EVERY_ACTION }], admin: true });
  });

  it("answers 401 signature_missing to an unsigned request", async () => {
    expect(await problemOf(await fetch(whoamiUrl()))).toEqual({ status: 401, code: "signature_missing" });
  });

  it.each([
    ["path", (headers: Record<string, string>) => fetch(`${gateway.origin}/v1/keys`, { headers })],
    ["query", (headers: Record<string, string>) => fetch(`${whoamiUrl()}?x=1`, { headers })],
    ["method", (headers: Record<string, string>) => fetch(whoamiUrl(), { method: "DELETE", headers })],
  ])("answers 401 signature_invalid when the %s was altered after signing, and spends no nonce", async (_label, sendAltered) => {
    const headers = await gateway.signedHeaders("GET", "/v1/whoami");
    expect(await problemOf(await sendAltered(headers))).toEqual({ status: 401, code: "signature_invalid" });
    // Had the altered request claimed the nonce, the genuine one would now be refused as a replay.
    expect((await fetch(whoamiUrl(), { headers })).status).toBe(200);
  });

  it("answers 401 signature_expired to a signature created an hour ago", async () => {
    const response = await gateway.signedFetch("GET", "/v1/whoami", { created: Math.floor(Date.now() / 1000) - STALE_SECONDS });
    expect(await problemOf(response)).toEqual({ status: 401, code: "signature_expired" });
  });

  it("answers 401 replayed_request to a captured request sent again", async () => {
    const headers = await gateway.signedHeaders("GET", "/v1/whoami");
    expect((await fetch(whoamiUrl(), { headers })).status).toBe(200);
    expect(await problemOf(await fetch(whoamiUrl(), { headers }))).toEqual({ status: 401, code: "replayed_request" });
  });

  it(`lets exactly one of ${CONCURRENT_COPIES} concurrent copies of one signed request through (an atomic claim in the replay store)`, async () => {
    const headers = await gateway.signedHeaders("GET", "/v1/whoami", { as: user });
    const responses = await Promise.all(Array.from({ length: CONCURRENT_COPIES }, () => fetch(whoamiUrl(), { headers })));
    const accepted = responses.filter((response) => response.status === 200);
    expect(accepted).toHaveLength(1);
    expect(await accepted[0]!.json()).toMatchObject({ keyid: user.keyid });
    const refused = await Promise.all(responses.filter((response) => response.status !== 200).map(problemOf));
    expect(new Set(refused.map((problem) => `${problem.status} ${problem.code}`))).toEqual(new Set(["401 replayed_request"]));
  });

  it("answers 401 signature_invalid to a valid ed25519 signature whose alg parameter says hmac-sha256", async () => {
    const { key, keyid } = gateway.admin;
    if (key.alg !== "ed25519") throw new Error("the harness admin signs with ed25519");
    const privateKey = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", key.privateKey));
    // An independent signer writes the alg parameter it is given; ours only ever writes the key's own.
    const signedClaiming = async (alg: string) => {
      const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(SIGNER_NONCE_BYTES)));
      const { headers } = await httpbis.signMessage(
        {
          key: createSigner(privateKey, "ed25519", keyid),
          fields: [...REQUIRED_COMPONENTS],
          params: ["created", "keyid", "alg", "nonce"],
          paramValues: { alg, nonce },
        },
        { method: "GET", url: whoamiUrl(), headers: {} },
      );
      return fetch(whoamiUrl(), { headers: headers as Record<string, string> });
    };
    expect((await signedClaiming("ed25519")).status).toBe(200);
    expect(await problemOf(await signedClaiming("hmac-sha256"))).toEqual({ status: 401, code: "signature_invalid" });
  });

  it("answers 400 malformed_signature to a PUT or POST whose signature leaves out its correct Content-Digest, and commits nothing", async () => {
    const uncovered = { components: [...REQUIRED_COMPONENTS] };
    const put = await gateway.signedFetch("PUT", "/v1/objects/uncovered/blob", { ...uncovered, body: json("bytes") });
    expect(await problemOf(put)).toEqual({ status: 400, code: "malformed_signature" });
    const post = await gateway.signedFetch("POST", "/v1/keys", {
      ...uncovered,
      body: json({ keyid: "uncovered", alg: "hmac-sha256", scopes: [] }),
      headers: { "content-type": "application/json" },
    });
    expect(await problemOf(post)).toEqual({ status: 400, code: "malformed_signature" });
    expect(await problemOf(await gateway.signedFetch("GET", "/v1/objects/uncovered/blob"))).toEqual({ status: 404, code: "not_found" });
    expect(await problemOf(await gateway.signedFetch("GET", "/v1/keys/uncovered"))).toEqual({ status: 404, code: "not_found" });
  });

  it("answers 400 digest_mismatch to a body that differs from its signed digest, and commits nothing", async () => {
    const signedBody = json({ keyid: "digest-signed", alg: "hmac-sha256", scopes: [] });
    const body = json({ keyid: "digest-sent", alg: "hmac-sha256", scopes: [{ prefix: "", actions: EVERY_ACTION }] });
    const response = await gateway.signedFetch("POST", "/v1/keys", { body, signedBody, headers: { "content-type": "application/json" } });
    expect(await problemOf(response)).toEqual({ status: 400, code: "digest_mismatch" });
    for (const keyid of ["digest-signed", "digest-sent"]) {
      expect(await problemOf(await gateway.signedFetch("GET", `/v1/keys/${keyid}`))).toEqual({ status: 404, code: "not_found" });
    }
  });

  it("answers 403 forbidden to a key without admin on /v1/keys, though it may do every object action", async () => {
    const whoami = await gateway.signedFetch("GET", "/v1/whoami", { as: user });
    expect(await whoami.json()).toMatchObject({ keyid: user.keyid, admin: false, scopes: [{ prefix: "", actions: EVERY_ACTION }] });
    const list = await gateway.signedFetch("GET", "/v1/keys", { as: user });
    expect(await problemOf(list)).toEqual({ status: 403, code: "forbidden" });
    const create = await gateway.signedFetch("POST", "/v1/keys", {
      as: user,
      body: json({ keyid: "escalated", alg: "hmac-sha256", scopes: [{ prefix: "", actions: EVERY_ACTION }] }),
      headers: { "content-type": "application/json" },
    });
    expect(await problemOf(create)).toEqual({ status: 403, code: "forbidden" });
    expect(await problemOf(await gateway.signedFetch("GET", "/v1/keys/escalated"))).toEqual({ status: 404, code: "not_found" });
  });
});
