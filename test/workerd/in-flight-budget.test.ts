import { describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../shared/config/index.ts";
import { KIB } from "../../shared/bytes.ts";
import { testGateway, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

/** The smallest chunk, so a few chunks make an object that stays in flight while its reader waits. */
const CHUNK_BYTES = 64 * KIB;
/** Room for exactly one data request (two chunk buffers): a second one in flight is shed. */
const BUDGET_BYTES = 2 * CHUNK_BYTES;
const VARS = { CHUNK_SIZE_BYTES: String(CHUNK_BYTES), MAX_IN_FLIGHT_BYTES: String(BUDGET_BYTES) };

function bytes(size: number, fill: number): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

async function put(gateway: TestGateway, key: string, body: Uint8Array): Promise<void> {
  const response = await gateway.signed("PUT", `/v1/objects/${key}`, { body, headers: { "content-length": String(body.length) } });
  expect(response.status, await response.clone().text()).toBe(201);
}

/** A download whose body nobody reads yet: the gateway holds its chunks, and its charge, until it is read or dropped. */
async function heldDownload(gateway: TestGateway, key: string): Promise<Response> {
  const response = await gateway.signed("GET", `/v1/objects/${key}`);
  expect(response.status).toBe(200);
  return response;
}

describe("in-flight budget (MAX_IN_FLIGHT_BYTES)", () => {
  it("sheds a transfer with 503 overloaded, Retry-After and problem+json while the budget is full, and admits again once released", async () => {
    const gateway = await testGateway(VARS);
    await put(gateway, "budget/held", bytes(8 * CHUNK_BYTES, 1));
    await put(gateway, "budget/small", bytes(100, 2));
    const held = await heldDownload(gateway, "budget/held");

    const shed = await gateway.signed("GET", "/v1/objects/budget/small");
    expect(shed.headers.get("content-type")).toBe("application/problem+json");
    expect(shed.headers.get("retry-after")).toBe("1");
    expect(await problemOf(shed)).toMatchObject({ status: 503, code: "overloaded" });
    expect(gateway.log.events("request_shed")[0]?.fields).toMatchObject({ in_flight_bytes: BUDGET_BYTES, max_in_flight_bytes: BUDGET_BYTES });

    expect((await held.arrayBuffer()).byteLength).toBe(8 * CHUNK_BYTES);
    const admitted = await gateway.signed("GET", "/v1/objects/budget/small");
    expect(admitted.status).toBe(200);
    expect(new Uint8Array(await admitted.arrayBuffer())).toEqual(bytes(100, 2));
  });

  it("releases a download's charge when its reader goes away", async () => {
    const gateway = await testGateway(VARS);
    await put(gateway, "budget/held", bytes(8 * CHUNK_BYTES, 1));
    const held = await heldDownload(gateway, "budget/held");
    expect((await gateway.signed("GET", "/v1/objects/budget/held")).status).toBe(503);
    await held.body?.cancel();
    // The pump learns of the cancel at its next write, a few promise turns later.
    await vi.waitFor(async () => {
      const admitted = await gateway.signed("GET", "/v1/objects/budget/held");
      await admitted.body?.cancel();
      expect(admitted.status).toBe(200);
    });
  });

  it("refuses before the signature check, so the very same signed request succeeds when sent again", async () => {
    const gateway = await testGateway(VARS);
    await put(gateway, "budget/held", bytes(8 * CHUNK_BYTES, 1));
    const held = await heldDownload(gateway, "budget/held");
    const nonce = "c2FtZS1ub25jZS1hZnRlci1zaGVk";
    expect((await gateway.signed("GET", "/v1/whoami", { nonce: "dW5yZWxhdGVkLW5vbmNlLXZhbHVl" })).status).toBe(200);
    expect((await gateway.signed("GET", "/v1/objects/budget/held", { nonce })).status).toBe(503);
    await held.arrayBuffer();
    const again = await gateway.signed("GET", "/v1/objects/budget/held", { nonce });
    expect(again.status).toBe(200);
    await again.arrayBuffer();
    // The claim is spent by the admitted request, not by the shed one.
    expect(await problemOf(await gateway.signed("GET", "/v1/objects/budget/held", { nonce }))).toMatchObject({ status: 401, code: "replayed_request" });
  });

  it("leaves the previous version readable when a PUT is shed", async () => {
    const gateway = await testGateway(VARS);
    await put(gateway, "budget/held", bytes(8 * CHUNK_BYTES, 1));
    await put(gateway, "budget/doc", bytes(1000, 3));
    const held = await heldDownload(gateway, "budget/held");
    const shed = await gateway.signed("PUT", "/v1/objects/budget/doc", { body: bytes(1000, 4), headers: { "content-length": "1000" } });
    expect(await problemOf(shed)).toMatchObject({ status: 503, code: "overloaded" });
    await held.arrayBuffer();
    const current = await gateway.signed("GET", "/v1/objects/budget/doc");
    expect(new Uint8Array(await current.arrayBuffer())).toEqual(bytes(1000, 3));
  });

  it("does not charge routes that move no object bytes", async () => {
    const gateway = await testGateway(VARS);
    await put(gateway, "budget/held", bytes(8 * CHUNK_BYTES, 1));
    const held = await heldDownload(gateway, "budget/held");
    expect((await gateway.signed("GET", "/v1/whoami")).status).toBe(200);
    expect((await gateway.fetch(new Request("http://gateway.test/healthz"))).status).toBe(200);
    await held.body?.cancel();
  });

  it("admits a lone request whose charge exceeds the whole budget, so a small budget slows but never starves", async () => {
    const gateway = await testGateway({ CHUNK_SIZE_BYTES: String(CHUNK_BYTES), MAX_IN_FLIGHT_BYTES: "1" });
    await put(gateway, "budget/held", bytes(8 * CHUNK_BYTES, 1));
    const response = await gateway.signed("GET", "/v1/objects/budget/held");
    expect((await response.arrayBuffer()).byteLength).toBe(8 * CHUNK_BYTES);
  });
});

describe("MAX_IN_FLIGHT_BYTES", () => {
  it("defaults to 64 MiB, sized for a Workers isolate's 128 MB", () => {
    expect(parseConfig({}, "workers").maxInFlightBytes).toBe(64 * 1024 * 1024);
    expect(parseConfig({ MAX_IN_FLIGHT_BYTES: "1048576" }, "node").maxInFlightBytes).toBe(1024 * 1024);
  });

  it.each(["0", "-1", "lots", "1.5", "9007199254740993"])("reports %s as invalid_max_in_flight_bytes", (value) => {
    const config = parseConfig({ MAX_IN_FLIGHT_BYTES: value }, "workers");
    expect(config.problems).toContain("invalid_max_in_flight_bytes");
    expect(config.maxInFlightBytes).toBe(64 * 1024 * 1024);
  });
});
