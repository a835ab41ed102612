import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemDetailOf } from "../support/problem.ts";
import { bytesOf, randomBytes, sha256Hex } from "./support/bytes.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

const CHUNK = 64 * 1024;
const TAG = 16;
/**
 * One part of one chunk, small enough to go out with its request head: a refused attempt is answered before its body
 * is read, and the Node server drains an unread body for 500 ms at most and then resets the connection, which a
 * client still writing on a loaded machine sees as a failed fetch instead of the 409 (seen with 192 KiB at load 7).
 */
const SIZE = 8 * 1024 + 5;
const KEY_BYTES = Buffer.alloc(32, 7).toString("base64");
const JSON_HEADERS = { "content-type": "application/json" };
/**
 * Which of two concurrent sends claims the part first is the race itself; the order they go out in alternates, so
 * the declared body is accepted within two rounds when the first (or the second) sent always wins, and within eight
 * with odds of 255 in 256 when the winner is a coin toss.
 */
const MAX_ROUNDS = 8;
/** Sends of one part at once: more than two, so two of them land in one another's claim even where requests queue a little. */
const CROWD = 8;

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/**
 * Regression test for issue 15's known limit (docs/ENCRYPTION.md "Nonce uniqueness on every write path"): two
 * attempts of one part of an encrypted session sent concurrently with different bodies both passed the part's digest
 * check (a list, then a put, of the session store), so both were sealed under the same nonces. Over real HTTP on every
 * build: exactly one is accepted, the other is 409 `already_exists`, and the object completes as the accepted body.
 */
describe.each(RUNTIMES)("concurrent sends of one encrypted part on %s", (_runtime, start) => {
  let gateway: GatewayHarness;
  let keyCounter = 0;

  beforeAll(async () => {
    gateway = await start({ ENCRYPTION_KEYS: `k1=${KEY_BYTES}`, CHUNK_SIZE_BYTES: String(CHUNK) });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  async function createSession(key: string, data: Uint8Array): Promise<string> {
    const created = await gateway.signedFetch("POST", "/v1/uploads", {
      body: json({ key, size: data.length, sha256: sha256Hex(data) }),
      headers: JSON_HEADERS,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    return ((await created.json()) as { upload_id: string }).upload_id;
  }

  async function statusOf(id: string): Promise<{ state: unknown; parts: unknown }> {
    const { state, parts } = (await (await gateway.signedFetch("GET", `/v1/uploads/${id}`)).json()) as { state: unknown; parts: unknown };
    return { state, parts };
  }

  function sendPart(id: string, body: Uint8Array<ArrayBuffer>): Promise<Response> {
    return gateway.signedFetch("PUT", `/v1/uploads/${id}/parts/1`, { body, headers: { "content-length": String(body.length) } });
  }

  it(`accepts exactly one of ${CROWD} different bodies sent at once and records its digest; the others are 409 already_exists`, async () => {
    const bodies = Array.from({ length: CROWD }, () => randomBytes(SIZE));
    const id = await createSession(`race/${keyCounter++}.bin`, bodies[0]!);
    const answers = await Promise.all(bodies.map((body) => sendPart(id, body)));
    expect(answers.filter((answer) => answer.ok).map((answer) => answer.status)).toEqual([200]);
    for (const refused of answers.filter((answer) => !answer.ok)) {
      expect(await problemDetailOf(refused)).toMatchObject({ status: 409, code: "already_exists", detail: "part 1 was already sent with another digest" });
    }
    const winner = bodies[answers.findIndex((answer) => answer.ok)]!;
    // Open: no refused attempt sealed a byte (one that had would have burned the session's data key).
    expect(await statusOf(id)).toEqual({ state: "open", parts: [{ part: 1, size: SIZE, sha256: sha256Hex(winner) }] });
  });

  it("accepts exactly one of two bodies sent at once, refuses the other with 409, and completes as the accepted one", async () => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const key = `race/${keyCounter++}.bin`;
      const declared = randomBytes(SIZE);
      const id = await createSession(key, declared);
      const bodies = round % 2 === 0 ? [declared, randomBytes(SIZE)] : [randomBytes(SIZE), declared];
      const answers = await Promise.all(bodies.map((body) => sendPart(id, body)));
      const accepted = answers.findIndex((answer) => answer.ok);
      expect(
        answers.map((answer) => answer.status),
        "exactly one attempt of the part is accepted",
      ).toEqual(accepted === 0 ? [200, 409] : [409, 200]);
      const refused = await problemDetailOf(answers[1 - accepted]!);
      expect(refused).toMatchObject({ status: 409, code: "already_exists", detail: "part 1 was already sent with another digest" });
      const winner = bodies[accepted]!;
      expect(await answers[accepted]!.json()).toEqual({ part: 1, size: SIZE, sha256: sha256Hex(winner) });
      expect(await statusOf(id)).toEqual({ state: "open", parts: [{ part: 1, size: SIZE, sha256: sha256Hex(winner) }] });
      // Left to expire (s3rver cannot abort a multipart upload): this session can never complete as `declared`.
      if (winner !== declared) continue;
      let complete: Response;
      do complete = await gateway.signedFetch("POST", `/v1/uploads/${id}/complete`, { body: json({}), headers: JSON_HEADERS });
      while (complete.status === 202);
      expect(complete.status, await complete.clone().text()).toBe(201);
      const manifest = (await gateway.kv.get(`obj:${key}`, "json")) as { blob: string; encryption?: { kid: string } };
      expect(manifest.encryption?.kid).toBe("k1");
      const blob = await gateway.bucket.get(manifest.blob);
      expect(blob && (await blob.arrayBuffer()).byteLength).toBe(SIZE + Math.ceil(SIZE / CHUNK) * TAG);
      const read = await gateway.signedFetch("GET", `/v1/objects/${key}`);
      expect(read.status).toBe(200);
      expect(sha256Hex(await bytesOf(read))).toBe(sha256Hex(declared));
      return;
    }
    expect.fail(`the declared body was never the accepted one in ${MAX_ROUNDS} rounds`);
  });
});
