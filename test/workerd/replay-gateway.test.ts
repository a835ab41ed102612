import { describe, expect, it } from "vitest";
import type { ReplayStore } from "../../shared/replay/index.ts";
import { toBase64Url } from "../../shared/crypto/encoding.ts";
import { SIGNER_NONCE_BYTES, signRequest } from "../../shared/signature/index.ts";
import { ORIGIN, testGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

/** Enough parallel copies that any lost compare-and-set would show up as a second success. */
const CONCURRENT_REPLAYS = 250;

describe("replay protection through the gateway", () => {
  it(`lets exactly one of ${CONCURRENT_REPLAYS} concurrent copies of one signed request through (Durable Object store)`, async () => {
    const gateway = await testGateway();
    const { headers } = await signRequest({
      method: "GET",
      url: `${ORIGIN}/v1/whoami`,
      key: gateway.admin.key,
      keyid: gateway.admin.keyid,
      created: Math.floor(gateway.now / 1000),
    });
    const responses = await Promise.all(Array.from({ length: CONCURRENT_REPLAYS }, () => gateway.fetch(new Request(`${ORIGIN}/v1/whoami`, { headers }))));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    const rejected = await Promise.all(responses.filter((response) => response.status !== 200).map(problemOf));
    expect(new Set(rejected.map((problem) => `${problem.status} ${problem.code}`))).toEqual(new Set(["401 replayed_request"]));
  });

  it("still refuses a nonce 200 s later: its claim lasts as long as a signature made with it can be fresh", async () => {
    const gateway = await testGateway();
    const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(SIGNER_NONCE_BYTES)));
    expect((await gateway.signed("GET", "/v1/whoami", { nonce })).status).toBe(200);
    gateway.now += 200_000;
    // Signed afresh at the new time, so only the nonce is old.
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami", { nonce }))).toMatchObject({ status: 401, code: "replayed_request" });
  });

  it("fails closed with 503 replay_store_unavailable when the store cannot answer", async () => {
    const outage: ReplayStore = {
      backend: "durable-object",
      atomic: true,
      claim: () => Promise.reject(new Error("Durable Object reset because its code was updated: shard replay-shard-7")),
    };
    const gateway = await testGateway({}, { replay: outage });
    const response = await gateway.signed("GET", "/v1/whoami");
    const text = await response.clone().text();
    expect(await problemOf(response)).toMatchObject({ status: 503, code: "replay_store_unavailable" });
    expect(text).not.toContain("replay-shard");
    expect(JSON.stringify(gateway.log.events("request_failed"))).toContain("replay-shard-7");
  });

  it("fails closed in soft mode too: a store outage is not an authentication failure to wave through", async () => {
    const outage: ReplayStore = { backend: "durable-object", atomic: true, claim: () => Promise.reject(new Error("down")) };
    const gateway = await testGateway({ AUTH_MODE: "soft" }, { replay: outage });
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami"))).toMatchObject({ status: 503, code: "replay_store_unavailable" });
  });
});
