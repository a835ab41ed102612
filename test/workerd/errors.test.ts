import { describe, expect, it } from "vitest";
import type { MetadataStore } from "../../shared/metadata/index.ts";
import { ORIGIN, testGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

const SECRET_DETAIL = "KV namespace verigate-prod-meta-7f3a timed out at /internal/shard/42";

const failingMetadata: MetadataStore = {
  backend: "kv",
  atomicSwap: true,
  get: () => Promise.reject(new Error(SECRET_DETAIL)),
  put: () => Promise.reject(new Error(SECRET_DETAIL)),
  delete: () => Promise.reject(new Error(SECRET_DETAIL)),
  list: () => Promise.reject(new Error(SECRET_DETAIL)),
  swap: () => Promise.reject(new Error(SECRET_DETAIL)),
};

describe("errors", () => {
  it("are problem+json with the request id that the X-Request-Id header carries", async () => {
    const gateway = await testGateway();
    const response = await gateway.fetch(new Request(`${ORIGIN}/v1/whoami`));
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      type: "urn:verigate:error:signature_missing",
      title: "This route needs a signed request",
      status: 401,
      code: "signature_missing",
      request_id: requestId,
    });
  });

  it("give every response its own request id, ignoring one the client sent", async () => {
    const gateway = await testGateway();
    const first = await gateway.fetch(new Request(`${ORIGIN}/healthz`, { headers: { "x-request-id": "planted-by-client" } }));
    const second = await gateway.fetch(new Request(`${ORIGIN}/healthz`));
    expect(first.headers.get("x-request-id")).not.toBe("planted-by-client");
    expect(first.headers.get("x-request-id")).not.toBe(second.headers.get("x-request-id"));
  });

  it("answer 404 not_found as problem+json for an unknown route", async () => {
    const gateway = await testGateway();
    expect(await problemOf(await gateway.signed("GET", "/v1/nothing-here"))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("turn an unexpected failure into 500 internal with the detail in the log only", async () => {
    const gateway = await testGateway({}, { metadata: failingMetadata });
    const response = await gateway.signed("GET", "/v1/whoami");
    const text = await response.clone().text();
    expect(await problemOf(response)).toMatchObject({ status: 500, code: "internal" });
    expect(text).not.toContain("verigate-prod-meta");
    expect(text).not.toContain("at ");
    const logged = gateway.log.events("request_failed");
    expect(logged).toHaveLength(1);
    expect(logged[0]?.fields).toMatchObject({ request_id: response.headers.get("x-request-id"), code: "internal", error_message: SECRET_DETAIL });
    expect(String(logged[0]?.fields.stack)).toContain(SECRET_DETAIL);
  });
});
