import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, toBase64 } from "../../shared/crypto/encoding.ts";
import { newEd25519Key } from "../support/keys.ts";
import { problemOf, wireProblemOf } from "../support/problem.ts";
import { FUNCTION_URL_TERMINATES_HTTP, itUnless, RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

/** Well past Node's 16 KiB default header limit and workerd's own. */
const OVERSIZE_HEADER_BYTES = 128 * 1024;

async function digestOf(text: string): Promise<string> {
  return `sha-256=:${toBase64(await sha256(new TextEncoder().encode(text)))}:`;
}

/** A GET through node:http with a Host of the test's choosing (fetch always sends the URL's own). */
function getWithHost(origin: string, path: string, host: string): Promise<{ status: number; body: string }> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path, headers: { host } }, (response) => {
      let body = "";
      response.setEncoding("utf8").on("data", (text: string) => (body += text));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject).end();
  });
}

/** Request shapes on which the builds used to disagree or answer outside problem+json (issue #10), over real HTTP. */
describe.each(RUNTIMES)("on %s", (runtime, start) => {
  let gateway: GatewayHarness;

  beforeAll(async () => {
    gateway = await start();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  // Regression (finding 5): the route matched the decoded path while the key was cut from the raw one.
  it("answers 404 to a signed PUT /v1/%6Fbjects/team/x and stores nothing under s/team/x", async () => {
    const body = new TextEncoder().encode("shifted");
    expect(await problemOf(await gateway.signedFetch("PUT", "/v1/%6Fbjects/team/x", { body }))).toEqual({ status: 404, code: "not_found" });
    expect((await gateway.signedFetch("GET", "/v1/objects/s/team/x")).status).toBe(404);
  });

  // Regression (finding 10): Node handed the gateway a GET without its body, so the body went unnoticed there.
  it("answers 400 digest_missing to a signed GET that carries a body without a Content-Digest", async () => {
    const headers = await gateway.signedHeaders("GET", "/v1/whoami");
    const response = await gateway.connect({
      method: "GET",
      target: "/v1/whoami",
      headers: { ...headers, "Content-Length": "5" },
      body: new TextEncoder().encode("hello"),
    }).response;
    expect(wireProblemOf(response)).toEqual({ status: 400, code: "digest_missing" });
  });

  // Regression (finding 10): Node's parser answered oversize headers with a bare 431, no problem+json, no request id.
  itUnless(runtime, { lambda: FUNCTION_URL_TERMINATES_HTTP })("answers oversize headers with a problem+json that carries its request id", async () => {
    const response = await gateway.connect({ method: "GET", target: "/v1/whoami", headers: { "X-Padding": "a".repeat(OVERSIZE_HEADER_BYTES) } }).response;
    expect(response, "a status line").not.toBeNull();
    if (runtime === "node") {
      expect(wireProblemOf(response)).toEqual({ status: 431, code: "headers_too_large" });
    } else {
      // workerd's own HTTP server refuses these before any Worker runs; what it sends is the runtime's, not the gateway's.
      expect(response!.status).toBeGreaterThanOrEqual(400);
      expect(response!.status).toBeLessThan(500);
    }
  });

  // Regression (found by the fuzz suite): a JSON body cut short of its Content-Length was 500 internal.
  itUnless(runtime, { lambda: FUNCTION_URL_TERMINATES_HTTP })("answers 400 bad_request to a JSON body that ends before its Content-Length", async () => {
    const body = new TextEncoder().encode(JSON.stringify({ keyid: "cut", alg: "ed25519", scopes: [] }));
    const headers = await gateway.signedHeaders("POST", "/v1/keys", { signedBody: body, headers: { "Content-Type": "application/json" } });
    const connection = gateway.connect({ method: "POST", target: "/v1/keys", headers: { ...headers, "Content-Length": String(body.length + 50) } });
    connection.write(body);
    connection.halfClose();
    expect(wireProblemOf(await connection.response)).toEqual({ status: 400, code: "bad_request" });
  });

  describe("AUTH_MODE=soft", () => {
    let soft: GatewayHarness;
    beforeAll(async () => {
      soft = await start({ AUTH_MODE: "soft" });
    });
    afterAll(async () => {
      await soft?.stop();
    });

    // Regression (finding 1): an unsigned POST /v1/keys ran as an admin and minted a key.
    it("refuses an unsigned POST /v1/keys with 403 and mints nothing", async () => {
      const pair = await newEd25519Key();
      const body = JSON.stringify({ keyid: "soft-minted", alg: "ed25519", public_key: pair.publicKey, scopes: [], admin: true });
      const response = await fetch(`${soft.origin}/v1/keys`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "content-digest": await digestOf(body) },
      });
      expect(await problemOf(response)).toEqual({ status: 403, code: "forbidden" });
      expect((await soft.signedFetch("GET", "/v1/keys/soft-minted")).status).toBe(404);
    });

    it("lets an unsigned read through, and logs it", async () => {
      const response = await fetch(`${soft.origin}/v1/whoami`);
      expect(await response.json()).toMatchObject({ keyid: "unauthenticated", admin: false });
      await soft.waitForEvent("auth_soft_failure", (line) => line.path === "/v1/whoami");
    });
  });

  // Regression (finding 2): AUTH_MODE=off trusted a loopback Host alone.
  describe("AUTH_MODE=off", () => {
    let off: GatewayHarness;
    beforeAll(async () => {
      off = await start({ AUTH_MODE: "off" });
    });
    afterAll(async () => {
      await off?.stop();
    });

    it("serves a request from this machine to a loopback host", async () => {
      const response = await fetch(`${off.origin}/v1/whoami`);
      expect(await response.json()).toMatchObject({ keyid: "unauthenticated", admin: false });
    });

    it("refuses a loopback peer naming another host (DNS rebinding) with 503 misconfigured", async () => {
      const port = new URL(off.origin).port;
      const answer = await getWithHost(off.origin, "/v1/whoami", `rebind.example:${port}`);
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toMatchObject({ code: "misconfigured" });
    });

    // On Workers the peer is CF-Connecting-IP: Cloudflare's edge sets it; locally miniflare sets it from the socket.
    it.runIf(runtime === "workers")("refuses a request whose peer is not this machine with 503 misconfigured", async () => {
      const response = await fetch(`${off.origin}/v1/whoami`, { headers: { "cf-connecting-ip": "203.0.113.9" } });
      expect(await problemOf(response)).toEqual({ status: 503, code: "misconfigured" });
    });
  });
});
