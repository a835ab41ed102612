import { describe, expect, it } from "vitest";
import { sha256, toBase64 } from "../../shared/crypto/encoding.ts";
import { isLoopbackAddress, isLoopbackHost } from "../../functions/middleware/loopback.ts";
import { newEd25519Key } from "../support/keys.ts";
import { testGateway, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

/** An unsigned request from `peer` (the address the runtime reports) to `url`, with a Content-Digest when it has a body. */
async function unsigned(gateway: TestGateway, method: string, url: string, peer: string, body?: string): Promise<Response> {
  const headers: Record<string, string> = { "x-test-client": peer };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-digest"] = `sha-256=:${toBase64(await sha256(new TextEncoder().encode(body)))}:`;
  }
  return gateway.fetch(new Request(url, { method, headers, ...(body === undefined ? {} : { body }) }));
}

const LOCAL = "127.0.0.1";

/**
 * Regression (issue #10, finding 1): in soft mode a failed authentication ran as an admin, so an unsigned
 * POST /v1/keys with a self-computed Content-Digest minted a key that outlived the switch back to enforce.
 */
describe("AUTH_MODE=soft: an unauthenticated request may read and list, nothing more", () => {
  async function softGateway() {
    const gateway = await testGateway({ AUTH_MODE: "soft" });
    const put = await gateway.signed("PUT", "/v1/objects/pub/readme.txt", { body: "hello", headers: { "content-length": "5" } });
    expect(put.status).toBe(201);
    return gateway;
  }

  it("cannot create a key, and nothing was stored that enforce mode would honour", async () => {
    const gateway = await softGateway();
    const pair = await newEd25519Key();
    const body = JSON.stringify({
      keyid: "minted-in-soft",
      alg: "ed25519",
      public_key: pair.publicKey,
      scopes: [{ prefix: "", actions: ["read"] }],
      admin: true,
    });
    expect(await problemOf(await unsigned(gateway, "POST", "http://gateway.test/v1/keys", LOCAL, body))).toMatchObject({ status: 403, code: "forbidden" });
    const listed = await gateway.signed("GET", "/v1/keys/minted-in-soft");
    expect(listed.status).toBe(404);
  });

  it.each([
    ["list keys", "GET", "/v1/keys"],
    ["revoke a key", "DELETE", "/v1/keys/whoever"],
    ["write an object", "PUT", "/v1/objects/pub/readme.txt"],
    ["delete an object", "DELETE", "/v1/objects/pub/readme.txt"],
  ])("cannot %s (403)", async (_label, method, path) => {
    const gateway = await softGateway();
    const body = method === "PUT" ? "other" : undefined;
    expect(await problemOf(await unsigned(gateway, method, `http://gateway.test${path}`, LOCAL, body))).toMatchObject({ status: 403, code: "forbidden" });
    expect(await (await gateway.signed("GET", "/v1/objects/pub/readme.txt")).text()).toBe("hello");
  });

  it("cannot presign a link (403)", async () => {
    const gateway = await softGateway();
    const body = JSON.stringify({ key: "pub/readme.txt" });
    expect(await problemOf(await unsigned(gateway, "POST", "http://gateway.test/v1/presign", LOCAL, body))).toMatchObject({ status: 403, code: "forbidden" });
  });

  it("reads and lists, and logs every pass with its code, method and path", async () => {
    const gateway = await softGateway();
    const read = await unsigned(gateway, "GET", "http://gateway.test/v1/objects/pub/readme.txt", "198.51.100.7");
    expect(read.status).toBe(200);
    expect(await read.text()).toBe("hello");
    const list = await unsigned(gateway, "GET", "http://gateway.test/v1/objects?prefix=pub/", "198.51.100.7");
    expect(((await list.json()) as { objects: { key: string }[] }).objects.map((object) => object.key)).toEqual(["pub/readme.txt"]);
    const whoami = await unsigned(gateway, "GET", "http://gateway.test/v1/whoami", "198.51.100.7");
    expect(await whoami.json()).toEqual({ keyid: "unauthenticated", alg: "ed25519", scopes: [{ prefix: "", actions: ["read", "list"] }], admin: false });
    expect(gateway.log.events("auth_soft_failure").map((entry) => entry.fields)).toMatchObject([
      { code: "signature_missing", method: "GET", path: "/v1/objects/pub/readme.txt" },
      { code: "signature_missing", method: "GET", path: "/v1/objects" },
      { code: "signature_missing", method: "GET", path: "/v1/whoami" },
    ]);
  });

  it("still serves a signed request as its key", async () => {
    const gateway = await softGateway();
    expect(await (await gateway.signed("GET", "/v1/whoami")).json()).toMatchObject({ keyid: gateway.admin.keyid, admin: true });
    expect(gateway.log.events("auth_soft_failure")).toEqual([]);
  });
});

/**
 * Regression (issue #10, finding 2): "loopback only" was judged by the Host header, which any client sets.
 * Now the runtime's peer address (here the harness's `x-test-client`) and the Host must both be loopback.
 */
describe("AUTH_MODE=off and REPLAY_STORE=memory serve this machine only", () => {
  it("serves a loopback peer addressing a loopback host, but never as an admin", async () => {
    const gateway = await testGateway({ AUTH_MODE: "off" });
    const local = await unsigned(gateway, "GET", "http://127.0.0.1:8787/v1/whoami", LOCAL);
    expect(local.status).toBe(200);
    expect(await local.json()).toMatchObject({ keyid: "unauthenticated", admin: false });
    expect(gateway.log.events("auth_off")).toHaveLength(1);
    const pair = await newEd25519Key();
    const body = JSON.stringify({ keyid: "minted-while-off", alg: "ed25519", public_key: pair.publicKey, scopes: [] });
    expect(await problemOf(await unsigned(gateway, "POST", "http://127.0.0.1:8787/v1/keys", LOCAL, body))).toMatchObject({ status: 403, code: "forbidden" });
  });

  it.each([
    ["a remote peer that names a loopback Host", "http://127.0.0.1:8787/v1/whoami", "203.0.113.9"],
    ["a remote peer that names localhost", "http://localhost:8787/v1/whoami", "2001:db8::1"],
    ["a loopback peer addressing another name (DNS rebinding)", "http://rebind.example:8787/v1/whoami", LOCAL],
    ["a peer the runtime could not name", "http://127.0.0.1:8787/v1/whoami", "unknown"],
  ])("refuses %s with 503 misconfigured", async (_label, url, peer) => {
    for (const vars of [{ AUTH_MODE: "off" }, { REPLAY_STORE: "memory" }]) {
      const gateway = await testGateway(vars);
      expect(await problemOf(await unsigned(gateway, "GET", url, peer))).toMatchObject({ status: 503, code: "misconfigured" });
    }
  });

  it("takes IPv4-mapped and IPv6 loopback peers and hosts", async () => {
    const gateway = await testGateway({ AUTH_MODE: "off" });
    for (const [url, peer] of [
      ["http://[::1]:8787/v1/whoami", "::1"],
      ["http://[::ffff:127.0.0.1]:8787/v1/whoami", "::ffff:127.0.0.1"],
      ["http://localhost:8787/v1/whoami", "127.8.9.10"],
    ] as const) {
      expect((await unsigned(gateway, "GET", url, peer)).status, `${peer} -> ${url}`).toBe(200);
    }
  });
});

describe("loopback tests", () => {
  it.each(["127.0.0.1", "127.255.0.3", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::FFFF:7f00:1", "::ffff:7fab:cd"])(
    "%s is a loopback address",
    (address) => {
      expect(isLoopbackAddress(address)).toBe(true);
    },
  );

  it.each(["10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "::ffff:8000:1", "1127.0.0.1", "127.0.0.1.evil", "localhost", "unknown", ""])(
    "%s is not a loopback address",
    (address) => {
      expect(isLoopbackAddress(address)).toBe(false);
    },
  );

  it("takes localhost and loopback addresses as hosts, and no name that merely contains them", () => {
    expect(["localhost", "LOCALHOST", "127.0.0.1", "[::1]"].every(isLoopbackHost)).toBe(true);
    expect(["localhost.evil.example", "127.0.0.1.nip.io", "evil-localhost"].some(isLoopbackHost)).toBe(false);
  });
});
