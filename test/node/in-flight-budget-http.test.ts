import { type IncomingMessage, request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { KIB, MIB } from "../../shared/bytes.ts";
import { randomBytes } from "./support/bytes.ts";
import { problemOf } from "../support/problem.ts";
import { describeUnless, RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

const CHUNK_BYTES = 64 * KIB;
/** Room for one data request (two chunk buffers) and no more. */
const BUDGET_BYTES = 2 * CHUNK_BYTES;
/** More than loopback's socket buffers take in, so a reader that stops reading keeps the download in flight. */
const HELD_BYTES = 16 * MIB;

/** A signed GET whose response head has arrived and whose body is not being read. */
async function holdDownload(gateway: GatewayHarness, path: string): Promise<IncomingMessage> {
  const url = new URL(gateway.origin);
  const headers = await gateway.signedHeaders("GET", path);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path, headers, agent: false }, (response) => {
      response.pause();
      resolve(response);
    });
    request.on("error", reject).end();
  });
}

/** Reads what is left of a held download; its length. */
async function drain(response: IncomingMessage): Promise<number> {
  let bytes = 0;
  for await (const part of response) bytes += (part as Buffer).length;
  return bytes;
}

/**
 * Lambda runs one request per execution environment, and the template leaves MAX_IN_FLIGHT_BYTES unset there
 * (deploy/LAMBDA.md): there is no shared process memory for a budget to bound.
 */
const ONE_REQUEST_PER_ENVIRONMENT = "a Lambda execution environment serves one request at a time, so there is no in-flight budget to share";

/** The in-flight budget over real HTTP, on each build: per Workers isolate and per Node process. */
describe.each(RUNTIMES)("in-flight budget on %s", (runtime, start) => {
  describeUnless(runtime, { lambda: ONE_REQUEST_PER_ENVIRONMENT })("per process", () => {
    let gateway: GatewayHarness;
    const held = randomBytes(HELD_BYTES);
    const previous = randomBytes(1000);

    beforeAll(async () => {
      gateway = await start({ CHUNK_SIZE_BYTES: String(CHUNK_BYTES), MAX_IN_FLIGHT_BYTES: String(BUDGET_BYTES), MAX_OBJECT_BYTES: String(64 * MIB) });
      for (const [key, body] of [
        ["budget/held", held],
        ["budget/doc", previous],
      ] as const) {
        const put = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body });
        expect(put.status, await put.clone().text()).toBe(201);
      }
    });

    afterAll(async () => {
      await gateway?.stop();
    });

    it("sheds with 503 overloaded and Retry-After while a download holds the budget, keeps the previous version, and admits again once it is read", async () => {
      const download = await holdDownload(gateway, "/v1/objects/budget/held");
      expect(download.statusCode).toBe(200);

      const shedGet = await gateway.signedFetch("GET", "/v1/objects/budget/doc");
      expect(shedGet.headers.get("retry-after")).toBe("1");
      expect(await problemOf(shedGet)).toEqual({ status: 503, code: "overloaded" });
      const shedPut = await gateway.signedFetch("PUT", "/v1/objects/budget/doc", { body: randomBytes(1000) });
      expect(await problemOf(shedPut)).toEqual({ status: 503, code: "overloaded" });

      expect(await drain(download)).toBe(HELD_BYTES);
      await vi.waitFor(async () => {
        const current = await gateway.signedFetch("GET", "/v1/objects/budget/doc");
        expect(current.status).toBe(200);
        expect(new Uint8Array(await current.arrayBuffer())).toEqual(previous);
      });
    });

    it("delivers the 503 of a shed PUT to a client still sending a large body", async () => {
      const download = await holdDownload(gateway, "/v1/objects/budget/held");
      const body = randomBytes(HELD_BYTES);
      const path = "/v1/objects/budget/doc";
      const headers = { ...(await gateway.signedHeaders("PUT", path, { signedBody: body })), "content-length": String(body.length) };
      const url = new URL(gateway.origin);
      const status = await new Promise<number | string>((resolve) => {
        const request = httpRequest({ host: url.hostname, port: url.port, path, method: "PUT", headers, agent: false }, (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        });
        request.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        request.end(body);
      });
      download.destroy();
      expect(status).toBe(503);
    });

    it("returns a download's charge when its client disconnects part way", async () => {
      const download = await holdDownload(gateway, "/v1/objects/budget/held");
      expect((await gateway.signedFetch("GET", "/v1/objects/budget/doc")).status).toBe(503);
      download.destroy();
      await vi.waitFor(async () => expect((await gateway.signedFetch("GET", "/v1/objects/budget/doc")).status).toBe(200), { timeout: 10_000, interval: 100 });
    });
  });
});
