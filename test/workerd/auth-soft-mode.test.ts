import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "../../shared/ratelimit/memory.ts";
import { newEd25519Key } from "../support/keys.ts";
import { keyWithScopes, testGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

/** AUTH_MODE=soft (README, "Soft mode"): authentication failures are logged and let through; nothing else is. */
describe("soft mode", () => {
  it("lets a forged signature through, logged as signature_invalid", async () => {
    const gateway = await testGateway({ AUTH_MODE: "soft" });
    const forger = await newEd25519Key();
    const forged = await gateway.signed("GET", "/v1/whoami", { as: { keyid: gateway.admin.keyid, key: { alg: "ed25519", privateKey: forger.privateKey } } });
    expect(forged.status).toBe(200);
    expect(await forged.json()).not.toMatchObject({ keyid: gateway.admin.keyid });
    expect(gateway.log.events("auth_soft_failure")).toMatchObject([{ fields: { code: "signature_invalid" } }]);
  });

  it("lets a replayed request through, logged as replayed_request", async () => {
    const gateway = await testGateway({ AUTH_MODE: "soft" });
    const nonce = "C".repeat(22) + crypto.randomUUID().replace(/-/g, "");
    expect((await gateway.signed("GET", "/v1/whoami", { nonce })).status).toBe(200);
    expect((await gateway.signed("GET", "/v1/whoami", { nonce })).status).toBe(200);
    expect(gateway.log.events("auth_soft_failure")).toMatchObject([{ fields: { code: "replayed_request" } }]);
  });

  it("authenticates a genuine signature as its own key, with that key's scopes", async () => {
    const gateway = await testGateway({ AUTH_MODE: "soft" });
    const scopes = [{ prefix: "team/", actions: ["read" as const] }];
    const as = await keyWithScopes(gateway, "soft-reader", scopes);
    const whoami = await gateway.signed("GET", "/v1/whoami", { as });
    expect(await whoami.json()).toEqual({ keyid: "soft-reader", alg: "ed25519", scopes, admin: false });
    expect(await problemOf(await gateway.signed("GET", "/v1/objects/other/x", { as }))).toMatchObject({ status: 403, code: "forbidden" });
    expect(gateway.log.events("auth_soft_failure")).toEqual([]);
  });

  it("still answers 429 to a key over its budget: flood control is not an authentication failure", async () => {
    const gateway = await testGateway({ AUTH_MODE: "soft" }, { limits: { perClient: new MemoryRateLimiter(1000, 60), perKey: new MemoryRateLimiter(1, 60) } });
    expect((await gateway.signed("GET", "/v1/whoami")).status).toBe(200);
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami"))).toMatchObject({ status: 429, code: "rate_limited" });
  });
});
