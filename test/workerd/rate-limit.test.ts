import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "../../shared/ratelimit/memory.ts";
import type { RateLimiter } from "../../shared/ratelimit/index.ts";
import { newEd25519Key } from "../support/keys.ts";
import { ORIGIN, testGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

/** RATE_LIMIT_CLIENT as vitest.config.ts gives it to this pool (wrangler.toml's name and period, a lower limit). */
const CLIENT_LIMIT_PER_PERIOD = 20;
/** The local binding counts in fixed windows aligned to the wall clock: epoch = floor(now / period). */
const LIMIT_WINDOW_MS = 10_000;
/** A burst that crosses a window boundary cannot be judged; the next attempt starts inside the new window. */
const BURST_ATTEMPTS = 3;

/**
 * Sends one request more than the limit, one at a time, from a fresh client address through the real Worker
 * entry, and returns their statuses in order; null when the burst straddled two windows.
 */
async function burstInOneWindow(): Promise<number[] | null> {
  const client = `2001:db8::${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}`;
  const window = Math.floor(Date.now() / LIMIT_WINDOW_MS);
  const statuses: number[] = [];
  for (let i = 0; i <= CLIENT_LIMIT_PER_PERIOD; i++) {
    statuses.push((await exports.default.fetch("http://localhost/v1/whoami", { headers: { "cf-connecting-ip": client } })).status);
  }
  return Math.floor(Date.now() / LIMIT_WINDOW_MS) === window ? statuses : null;
}

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
    let statuses: number[] | null = null;
    for (let attempt = 0; attempt < BURST_ATTEMPTS && !statuses; attempt++) statuses = await burstInOneWindow();
    expect(statuses, `no burst fit in one ${LIMIT_WINDOW_MS} ms window in ${BURST_ATTEMPTS} attempts`).not.toBeNull();
    expect(statuses).toEqual([...Array<number>(CLIENT_LIMIT_PER_PERIOD).fill(401), 429]);
  });
});
