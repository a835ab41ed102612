import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemOf } from "../support/problem.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";
import { bytesOf, randomBytes, sha256Hex } from "./support/bytes.ts";

/** Writers racing one precondition, as in issue #10 finding 8 (all 20 won on the AWS build). */
const WRITERS = 20;

interface PutAnswer {
  status: number;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * Conditional PUTs are atomic (issue #10, finding 8): of writers racing one precondition exactly one commits, the
 * rest get the precondition's refusal, and the key holds the winner's bytes.
 */
describe.each(RUNTIMES)("on %s", (_runtime, start) => {
  let gateway: GatewayHarness;

  beforeAll(async () => {
    gateway = await start();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  /** Signs every request first, then sends them all at once, so signing time does not spread the race out. */
  async function racePuts(key: string, headers: Record<string, string>): Promise<PutAnswer[]> {
    const bodies = Array.from({ length: WRITERS }, () => randomBytes(256));
    const url = `${gateway.origin}/v1/objects/${key}`;
    const signed = await Promise.all(bodies.map((body) => gateway.signedHeaders("PUT", `/v1/objects/${key}`, { signedBody: body, headers })));
    const responses = await Promise.all(signed.map((signedHeaders, n) => fetch(url, { method: "PUT", headers: signedHeaders, body: bodies[n] })));
    return Promise.all(
      responses.map(async (response, n) => {
        const body = bodies[n] as Uint8Array<ArrayBuffer>;
        if (response.status !== 201) expect(await problemOf(response)).toMatchObject({ status: response.status });
        else await response.arrayBuffer();
        return { status: response.status, body };
      }),
    );
  }

  async function expectWinnerStored(key: string, answers: PutAnswer[], loserStatus: number): Promise<void> {
    const winners = answers.filter((answer) => answer.status === 201);
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, ...Array<number>(WRITERS - 1).fill(loserStatus)]);
    const got = await gateway.signedFetch("GET", `/v1/objects/${key}`);
    expect(got.status).toBe(200);
    expect(sha256Hex(await bytesOf(got))).toBe(sha256Hex(winners[0]?.body ?? new Uint8Array()));
  }

  it(`gives one of ${WRITERS} concurrent If-Match writers naming the same version 201 and the rest 412 precondition_failed`, async () => {
    const key = `race/if-match-${crypto.randomUUID()}.bin`;
    const v0 = randomBytes(100);
    expect((await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body: v0 })).status).toBe(201);
    await expectWinnerStored(key, await racePuts(key, { "if-match": `"${sha256Hex(v0)}"` }), 412);
  });

  it(`gives one of ${WRITERS} concurrent If-None-Match: * creators 201 and the rest 409 already_exists`, async () => {
    const key = `race/if-none-match-${crypto.randomUUID()}.bin`;
    await expectWinnerStored(key, await racePuts(key, { "if-none-match": "*" }), 409);
  });
});
