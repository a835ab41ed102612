import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";
import { toBase64 } from "../../shared/crypto/encoding.ts";
import { FUZZ_TIMEOUT_MS, type FuzzRequest, type KeyFixtures, exchange, expectAnswer, fuzzParameters, jsonBytes, keyFixtures, outcome } from "./support/fuzz.ts";
import { profileParts, renderSignatureInput, signatureMember, signatureOver } from "./support/fuzz-signing.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

/** Cases per build. */
const RUNS = 200;
const PRESIGN_SECRET = "presign-secret-for-the-fuzz-suites-0123456789";

/**
 * Content-Digest values as header text (RFC 9530, PROTOCOL section 1), each with the answer it deserves: `pass` is the
 * route's success, `any` is unspecified. `{sha256}` and `{sha512}` are the body's digests, `{other}` the SHA-256 of
 * other bytes, `{bytes:N}` N zero bytes, all base64.
 */
const DIGESTS: [value: string, deserves: string][] = [
  ["sha-256=:{sha256}:", "pass"],
  ["sha-256=:{other}:", "400 digest_mismatch"],
  ["sha-512=:{sha512}:, sha-256=:{sha256}:", "pass"],
  ["sha-256=:{sha256}:, sha-512=:{sha512}:", "pass"],
  ["sha-512=:{sha512}:, sha-256=:{other}:", "400 digest_mismatch"],
  ["sha-512=:{sha512}:", "400 digest_missing"],
  ["md5=:AAAA:", "400 digest_missing"],
  ["", "400 digest_missing"],
  ["sha-256=:{bytes:31}:", "400 bad_request"],
  ["sha-256=:{bytes:33}:", "400 bad_request"],
  ["sha-256=::", "400 bad_request"],
  ['sha-256="{sha256}"', "400 bad_request"],
  ["sha-256=1", "400 bad_request"],
  ["sha-256", "400 bad_request"],
  ["sha-256=(:{sha256}:)", "400 bad_request"],
  ["sha-256=:!!{sha256}:", "400 bad_request"],
  ["SHA-256=:{sha256}:", "400 bad_request"],
  ["sha-256 =:{sha256}:", "400 bad_request"],
  [":{sha256}:", "400 bad_request"],
  // Parameters and repeated members are RFC 8941's business; what the gateway makes of them is not specified.
  ["sha-256=:{sha256}:;x=1", "any"],
  ["sha-256=:{other}:, sha-256=:{sha256}:", "any"],
  ["sha-256=:{sha256}:, sha-256=:{other}:", "any"],
];

type DigestMutation =
  | { kind: "value"; value: string; deserves: string }
  /** No Content-Digest at all, though the signature claims to cover it. */
  | { kind: "absent" }
  /** The right digest, sent but not covered by the signature. */
  | { kind: "uncovered" }
  /** A Content-Length off by one from the body sent: a cut or overlong body, which must never pass. */
  | { kind: "length"; by: -1 | 1 };

const digestMutation: fc.Arbitrary<DigestMutation> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...DIGESTS).map(([value, deserves]) => ({ kind: "value" as const, value, deserves })) },
  { weight: 1, arbitrary: fc.constant({ kind: "absent" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "uncovered" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("length" as const), by: fc.constantFrom<-1 | 1>(-1, 1) }) },
);

type Route = "put" | "keys" | "presign";

const digest = (algorithm: "sha256" | "sha512", bytes: Uint8Array) => createHash(algorithm).update(bytes).digest("base64");

function fill(template: string, body: Uint8Array): string {
  return template
    .replace("{sha256}", digest("sha256", body))
    .replace("{sha512}", digest("sha512", body))
    .replace("{other}", digest("sha256", new Uint8Array([...body, 0])))
    .replace(/\{bytes:(\d+)\}/, (_match, length: string) => toBase64(new Uint8Array(Number(length))));
}

/** Content-Digest (RFC 9530) on every route that takes a body, signed over the mutated header so the digest check itself is reached. */
describe.each(RUNTIMES)("on %s", (runtime, start) => {
  let gateway: GatewayHarness;
  let keys: KeyFixtures;

  beforeAll(async () => {
    gateway = await start({ PRESIGN_SECRET });
    keys = await keyFixtures(gateway);
    const put = await gateway.signedFetch("PUT", "/v1/objects/fuzz/shared", { body: new TextEncoder().encode("shared") });
    if (put.status !== 201) throw new Error(`fixture object: ${put.status}`);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  /** A fresh request of `route` that succeeds as is: new object keys and keyids every run, so a rerun while shrinking does too. */
  function request(route: Route, bytes: Uint8Array): { request: FuzzRequest; pass: string } {
    const unique = crypto.randomUUID();
    switch (route) {
      case "put":
        return { request: { method: "PUT", target: `/v1/objects/fuzz/digest/${unique}`, headers: {}, body: bytes }, pass: "201" };
      case "keys":
        return {
          request: { method: "POST", target: "/v1/keys", headers: { "Content-Type": "application/json" }, body: jsonBytes({ keyid: `fuzz-${unique}`, alg: "hmac-sha256", scopes: [] }) },
          pass: "201",
        };
      case "presign":
        return { request: { method: "POST", target: "/v1/presign", headers: { "Content-Type": "application/json" }, body: jsonBytes({ key: "fuzz/shared" }) }, pass: "200" };
    }
  }

  it(`answers every Content-Digest as RFC 9530 and the contract say, never a 5xx, always problem+json (${RUNS} cases, seeded)`, async () => {
    const cases = fc.record({
      route: fc.constantFrom<Route>("put", "keys", "presign"),
      user: fc.boolean(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 2048 }),
      mutation: digestMutation,
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ route, user, bytes, mutation }) => {
        // Only an admin may create keys; the user key may write and presign under fuzz/.
        const signer = user && route !== "keys" ? keys.user : keys.admin;
        const { request: base, pass } = request(route, bytes);
        const body = base.body ?? new Uint8Array();
        const value = mutation.kind === "value" ? fill(mutation.value, body) : fill("sha-256=:{sha256}:", body);
        const unsigned: FuzzRequest = {
          ...base,
          headers: {
            ...base.headers,
            ...(mutation.kind === "absent" ? {} : { "Content-Digest": value }),
            ...(mutation.kind === "length" ? { "Content-Length": String(body.length + mutation.by) } : {}),
          },
          halfClose: mutation.kind === "length",
        };
        const parts = profileParts(signer.keyid, { withBody: mutation.kind !== "uncovered", created: Math.floor(Date.now() / 1000) });
        const input = renderSignatureInput(parts);
        const signature = await signatureOver(gateway.origin, unsigned, input, parts.label, signer.key);
        const sent = { ...unsigned, headers: { ...unsigned.headers, "Signature-Input": input, Signature: signatureMember(parts.label, signature) } };
        const answer = await exchange(gateway, sent);
        const deserves =
          mutation.kind === "value"
            ? mutation.deserves.replace("pass", pass)
            : mutation.kind === "absent"
              ? "400 digest_missing"
              : mutation.kind === "uncovered"
                ? "400 malformed_signature"
                : "refused";
        const got = outcome(answer);
        const mismatch = deserves === "any" ? false : deserves === "refused" ? answer.status < 400 : got !== deserves;
        expectAnswer(runtime, sent, answer, mismatch ? [`answered ${got}, the contract asks ${deserves}`] : []);
      }),
      fuzzParameters(RUNS),
    );
  }, FUZZ_TIMEOUT_MS);
});
