import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "../../shared/ratelimit/memory.ts";
import type { RateLimiter } from "../../shared/ratelimit/index.ts";
import { newEd25519Key } from "../support/keys.ts";
import { ORIGIN, problemOf, testGateway } from "../support/gateway.ts";

/** wrangler.toml's RATE_LIMIT_CLIENT: 1,000 requests per 10 s. */
const CLIENT_LIMIT_PER_PERIOD = 1000;

function limits(limit: number) {
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;
  return {
    limits: { perClient: new MemoryRateLimiter(limit, 60, clock), perKey: new MemoryRateLimiter(limit, 60, clock) },
    advance: (ms: number) => (now += ms),
  };
}

describe("flood control", () => {
  it("answers 429 rate_limited with Retry-After to a client over its budget, and not to others", async () => {
    const { limits: perMinute, advance } = limits(3);
    const gateway = await testGateway({}, { limits: { ...perMinute, perKey: new MemoryRateLimiter(1000, 60) } });
    const from = (client: string) => gateway.fetch(new Request(`${ORIGIN}/v1/whoami`, { headers: { "x-test-client": client } }));
    for (let i = 0; i < 3; i++) expect((await from("198.51.100.7")).status).toBe(401);
    const refused = await from("198.51.100.7");
    expect(await problemOf(refused.clone())).toMatchObject({ status: 429, code: "rate_limited" });
    expect(refused.headers.get("retry-after")).toBe("60");
    expect((await from("203.0.113.9")).status).toBe(401);
    expect((await gateway.fetch(new Request(`${ORIGIN}/healthz`, { headers: { "x-test-client": "198.51.100.7" } }))).status).toBe(200);
    advance(60_000);
    expect((await from("198.51.100.7")).status).toBe(401);
  });

  it("counts a key's budget only for requests whose signature verified, so forgeries cannot exhaust it", async () => {
    const { limits: perMinute } = limits(2);
    const gateway = await testGateway({}, { limits: { perClient: new MemoryRateLimiter(1000, 60), perKey: perMinute.perKey } });
    const forger = await newEd25519Key();
    for (let i = 0; i < 5; i++) {
      const forged = await gateway.signed("GET", "/v1/whoami", { as: { keyid: gateway.admin.keyid, key: { alg: "ed25519", privateKey: forger.privateKey } } });
      expect(forged.status).toBe(401);
    }
    expect((await gateway.signed("GET", "/v1/whoami")).status).toBe(200);
    expect((await gateway.signed("GET", "/v1/whoami")).status).toBe(200);
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami"))).toMatchObject({ status: 429, code: "rate_limited" });
  });

  it("lets requests through, logged, when the limiter itself fails", async () => {
    const broken: RateLimiter = { backend: "memory", allow: () => Promise.reject(new Error("limiter down")) };
    const gateway = await testGateway({}, { limits: { perClient: broken, perKey: broken } });
    expect((await gateway.signed("GET", "/v1/whoami")).status).toBe(200);
    expect(gateway.log.events("rate_limiter_unavailable").length).toBeGreaterThan(0);
  });

  it("is wired to the Workers rate limiting binding in the real entry", async () => {
    const statuses: number[] = [];
    for (let batch = 0; batch < 11; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 100 }, () => exports.default.fetch("http://localhost/v1/whoami", { headers: { "cf-connecting-ip": "192.0.2.44" } })),
      );
      statuses.push(...responses.map((response) => response.status));
    }
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(statuses.slice(0, CLIENT_LIMIT_PER_PERIOD).every((status) => status === 401)).toBe(true);
  });
});
