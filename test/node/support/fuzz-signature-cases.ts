import { createHash } from "node:crypto";
import fc from "fast-check";
import { toBase64 } from "../../../shared/crypto/encoding.ts";
import type { SigningKey } from "../../../shared/signature/index.ts";
import type { FuzzRequest } from "./fuzz.ts";
import { type SignatureInputParts, canonicalInnerList, renderSignatureInput, signatureBytes, signatureMember, signatureOver } from "./fuzz-signing.ts";

/**
 * The cases of the signed-request fuzz suite: mutations of Signature-Input, Signature and Content-Digest, and what
 * each deserves by the contract (PROTOCOL section 1, RFC 9421, RFC 9530), so the suite itself only sends and judges.
 */

/**
 * What one mutation does to an otherwise valid request, by the contract (PROTOCOL section 1), for a signer whose key
 * may sign: `ok` leaves it valid, a code is the refusal it must get, `refused` is some 4xx, `any` is unspecified
 * (judged only by the properties every answer has).
 */
export type Effect =
  | "ok"
  | "any"
  | "refused"
  | "malformed_signature"
  | "signature_not_yet_valid"
  | "signature_expired"
  | "signature_invalid"
  | "replayed_request"
  | "signature_missing";

/**
 * Parameter values as header text. `{now+N}` is the send time plus N seconds, `{rand:N}` N random base64url
 * characters (a fresh nonce every run), `{spent}` a nonce this signer already used, `{alg}` the signer's algorithm,
 * `{otheralg}` the other one, `{other}` the keyid of another registered key. Null removes the parameter.
 * Times keep 10 s or more from every freshness boundary (skew 30 s, age 300 s), so a slow machine does not flip them.
 */
const PARAMS: Record<string, [value: string | null, effect: Effect][]> = {
  created: [
    ["{now}", "ok"],
    ["{now-200}", "ok"],
    ["{now+20}", "ok"],
    ["{now+45}", "signature_not_yet_valid"],
    ["999999999999999", "signature_not_yet_valid"],
    ["{now-345}", "signature_expired"],
    ["0", "signature_expired"],
    ["-1", "signature_expired"],
    // RFC 9421 section 2.3: created is an Integer; a Decimal is outside the profile even when its value is whole.
    ["{now}.0", "malformed_signature"],
    ["{now}.5", "malformed_signature"],
    ["{now}.000", "malformed_signature"],
    ["9999999999999999", "malformed_signature"],
    ['"{now}"', "malformed_signature"],
    ["?1", "malformed_signature"],
    [":AAAA:", "malformed_signature"],
    ["now", "malformed_signature"],
    ["@{now}", "malformed_signature"],
    ['%"{now}"', "malformed_signature"],
    // A trailing space would be trimmed off the field value; inside it, it ends the member early.
    ["{now} ;x=1", "malformed_signature"],
    ["", "malformed_signature"],
    [null, "malformed_signature"],
  ],
  expires: [
    ["{now+60}", "ok"],
    ["{now+300}", "ok"],
    ["{now}", "ok"],
    ["{now+301}", "malformed_signature"],
    ["{now-45}", "signature_expired"],
    ["-99999999999", "signature_expired"],
    ["999999999999999", "malformed_signature"],
    ["{now+60}.0", "malformed_signature"],
    ['"{now+60}"', "malformed_signature"],
  ],
  nonce: [
    ['"{rand:22}"', "ok"],
    ['"{rand:128}"', "ok"],
    ['"{rand:30}=="', "ok"],
    ['"+/{rand:20}"', "ok"],
    ['"{rand:21}"', "malformed_signature"],
    ['"{rand:21}="', "malformed_signature"],
    ['"{rand:129}"', "malformed_signature"],
    ['"{rand:30}==="', "malformed_signature"],
    ['"{rand:22}*"', "malformed_signature"],
    ['"{rand:11} {rand:11}"', "malformed_signature"],
    ["12345", "malformed_signature"],
    ['""', "malformed_signature"],
    ["a{rand:22}", "malformed_signature"],
    [null, "malformed_signature"],
    ['"{spent}"', "replayed_request"],
  ],
  keyid: [
    ['"nobody"', "signature_invalid"],
    ['"{other}"', "signature_invalid"],
    ['"verigate-link"', "signature_invalid"],
    ['"key:wire-admin"', "signature_invalid"],
    ['"wire-admin "', "signature_invalid"],
    ['"../wire-admin"', "signature_invalid"],
    [`"${"k".repeat(129)}"`, "signature_invalid"],
    ['""', "malformed_signature"],
    ["1", "malformed_signature"],
    ["wire-admin", "malformed_signature"],
    [null, "malformed_signature"],
  ],
  alg: [
    ['"{alg}"', "ok"],
    ['"{otheralg}"', "signature_invalid"],
    ['"rsa-v1_5-sha256"', "malformed_signature"],
    ['"ED25519"', "malformed_signature"],
    ["ed25519", "malformed_signature"],
    ["1", "malformed_signature"],
  ],
  tag: [
    ['"verigate"', "ok"],
    ['"other"', "malformed_signature"],
    ['""', "malformed_signature"],
    ["verigate", "malformed_signature"],
  ],
  // Parameters the profile does not know are signed but not interpreted.
  x: [
    ["1", "ok"],
    ['"v"', "ok"],
    ["?0", "ok"],
    [":AAAA:", "ok"],
    ['"a\\"b\\\\c"', "ok"],
    ["(1)", "malformed_signature"],
  ],
};

/** Components added to the covered list. The requests send `X-Present` (ASCII) and `X-Utf8` (UTF-8 bytes). */
const ADDED_COMPONENTS: [item: string, effect: Effect][] = [
  ['"x-present"', "ok"],
  ['"@target-uri"', "malformed_signature"],
  ['"@scheme"', "malformed_signature"],
  ['"@request-target"', "malformed_signature"],
  ['"@status"', "malformed_signature"],
  ['"@METHOD"', "malformed_signature"],
  ['"@query-param";name="a"', "malformed_signature"],
  ['"x-absent"', "malformed_signature"],
  ['"X-Present"', "malformed_signature"],
  ['"content-digest"', "malformed_signature"],
  ['"x-present";sf', "malformed_signature"],
  ['"x-present";bs', "malformed_signature"],
  ['"@method";req', "malformed_signature"],
  ['"@path";key="a"', "malformed_signature"],
  ['""', "malformed_signature"],
  ['"x present"', "malformed_signature"],
  ["1", "malformed_signature"],
  ["@method", "malformed_signature"],
  // How a runtime hands over Host, and which bytes a non-ASCII field value is, are the runtime's: only well-formedness.
  ['"host"', "any"],
  ['"x-utf8"', "any"],
  ['"signature-input"', "any"],
];

/** Labels sent on both headers: any valid dictionary key will do. */
const LABELS: [label: string, effect: Effect][] = [
  ["a", "ok"],
  ["*x", "ok"],
  ["s.1-_*", "ok"],
  ["l".repeat(64), "ok"],
  ["Sig1", "malformed_signature"],
  ["1sig", "malformed_signature"],
];

/** Signature member values replacing `:<signature>:`; `{sig}` is the real signature. */
const SIGNATURE_VALUES: [value: string, effect: Effect][] = [
  ["::", "signature_invalid"],
  [":AAAA:", "signature_invalid"],
  ['"abc"', "malformed_signature"],
  ["?1", "malformed_signature"],
  ["1", "malformed_signature"],
  ["(:AAAA:)", "malformed_signature"],
  [":!!!!:", "malformed_signature"],
  [":AAAA", "malformed_signature"],
  ["{sig};x=1", "any"],
];

/** One mutation of a valid signed request; `resign` signs over the mutated Signature-Input, so it reaches past verification. */
export type Mutation =
  | { kind: "none" }
  | { kind: "param"; name: string; value: string | null; effect: Effect; resign: boolean }
  | { kind: "drop-component"; index: number; resign: boolean }
  | { kind: "duplicate-component"; index: number; resign: boolean }
  | { kind: "add-component"; item: string; effect: Effect; resign: boolean }
  | { kind: "reorder-components"; order: number[]; resign: boolean }
  | { kind: "no-components"; resign: boolean }
  | { kind: "label"; label: string; effect: Effect; inputOnly: boolean }
  | { kind: "flip-signature-bit"; bit: number }
  | { kind: "resize-signature"; by: -1 | 1 }
  | { kind: "signature-value"; value: string; effect: Effect }
  | { kind: "extra-member"; header: "input" | "signature" }
  | { kind: "drop-header"; headers: "input" | "signature" | "both" }
  | { kind: "twice"; header: "input" | "signature" }
  | { kind: "splice"; header: "input" | "signature"; at: number; text: string; resign: boolean }
  | { kind: "junk"; header: "input" | "signature"; text: string }
  | { kind: "oversize"; chars: number };

const header = fc.constantFrom<"input" | "signature">("input", "signature");
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 200 });
/** Characters that mean something in a structured field, and some that never may appear in one. */
const significant = fc.string({
  unit: fc.constantFrom(" ", ",", ";", "=", "(", ")", '"', ":", "\\", "*", "a", "1", "?", "@", "%", "\t", "é"),
  minLength: 1,
  maxLength: 3,
});
const paramMutation = fc
  .constantFrom(...Object.entries(PARAMS).flatMap(([name, values]) => values.map(([value, effect]) => ({ name, value, effect }))))
  .chain((param) => fc.boolean().map((resign) => ({ kind: "param" as const, ...param, resign })));

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 12, arbitrary: paramMutation },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop-component" as const), index: fc.nat(3), resign: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicate-component" as const), index: fc.nat(3), resign: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...ADDED_COMPONENTS)
      .chain(([item, effect]) =>
        fc.record({ kind: fc.constant("add-component" as const), item: fc.constant(item), effect: fc.constant(effect), resign: fc.boolean() }),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("reorder-components" as const),
      order: fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4 }),
      resign: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("no-components" as const), resign: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(...LABELS)
      .chain(([label, effect]) =>
        fc.record({ kind: fc.constant("label" as const), label: fc.constant(label), effect: fc.constant(effect), inputOnly: fc.boolean() }),
      ),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("flip-signature-bit" as const), bit: fc.nat(511) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("resize-signature" as const), by: fc.constantFrom<-1 | 1>(-1, 1) }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...SIGNATURE_VALUES).map(([value, effect]) => ({ kind: "signature-value" as const, value, effect })),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("extra-member" as const), header }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("drop-header" as const), headers: fc.constantFrom<"input" | "signature" | "both">("input", "signature", "both") }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("twice" as const), header }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("splice" as const), header, at: fc.nat(400), text: significant, resign: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("junk" as const), header, text: printable }) },
  // Node's parser refuses a head over 16 KiB itself; workerd's limit is larger. Either way the answer must be the gateway's.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("oversize" as const), chars: fc.constantFrom(4_000, 12_000, 17_000, 70_000) }) },
);

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

export const digestMutation: fc.Arbitrary<DigestMutation> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...DIGESTS).map(([value, deserves]) => ({ kind: "value" as const, value, deserves })) },
  { weight: 1, arbitrary: fc.constant({ kind: "absent" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "uncovered" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("length" as const), by: fc.constantFrom<-1 | 1>(-1, 1) }) },
);

export type BodyRoute = "put" | "keys" | "presign";

const digest = (algorithm: "sha256" | "sha512", bytes: Uint8Array) => createHash(algorithm).update(bytes).digest("base64");

export function fillDigest(template: string, body: Uint8Array): string {
  return template
    .replace("{sha256}", digest("sha256", body))
    .replace("{sha512}", digest("sha512", body))
    .replace("{other}", digest("sha256", new Uint8Array([...body, 0])))
    .replace(/\{bytes:(\d+)\}/, (_match, length: string) => toBase64(new Uint8Array(Number(length))));
}

export type SignerName = "admin" | "user" | "hmac" | "revoked" | "unknown";
export type Route = "whoami" | "whoami-query" | "object" | "keys";

export const TARGETS: Record<Route, string> = {
  whoami: "/v1/whoami",
  "whoami-query": "/v1/whoami?a=1&b=%20&c",
  object: "/v1/objects/fuzz/p",
  keys: "/v1/keys",
};

/** What each signer gets on each route with a valid signature: the user and hmac keys are scoped to `fuzz/`, not admin. */
function control(route: Route, signer: SignerName): string {
  if (signer === "revoked" || signer === "unknown") return "401 signature_invalid";
  return route === "keys" && signer !== "admin" ? "403 forbidden" : "200";
}

/** Refusals of parse, profile and freshness, which come before the key lookup and the signature (PROTOCOL section 1). */
const EARLY_REFUSALS: Partial<Record<Effect, number>> = {
  signature_missing: 401,
  malformed_signature: 400,
  signature_not_yet_valid: 401,
  signature_expired: 401,
};

/** What the contract asks of the answer: an exact outcome, some refusal, or only the properties of every answer. */
export function deserved(effect: Effect, resigned: boolean, route: Route, signer: SignerName): string {
  if (effect === "any" || effect === "refused") return effect;
  const early = EARLY_REFUSALS[effect];
  if (early !== undefined) return `${early} ${effect}`;
  const keyCanSign = signer !== "revoked" && signer !== "unknown";
  if (!resigned || !keyCanSign) return "401 signature_invalid";
  return effect === "ok" ? control(route, signer) : `401 ${effect}`;
}

const RANDOM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A parameter value's text with its placeholders filled in (see PARAMS). */
export function fill(template: string, now: number, signer: { alg: string; spent: string; other: string }): string {
  return template
    .replace(/\{now([+-]\d+)?\}/g, (_match, offset?: string) => String(now + Number(offset ?? 0)))
    .replace(/\{rand:(\d+)\}/g, (_match, length: string) =>
      Array.from({ length: Number(length) }, () => RANDOM_ALPHABET[Math.floor(Math.random() * 64)]).join(""),
    )
    .replace("{spent}", signer.spent)
    .replace("{otheralg}", signer.alg === "ed25519" ? "hmac-sha256" : "ed25519")
    .replace("{alg}", signer.alg)
    .replace("{other}", signer.other);
}

/** Every admin and user key and the hmac key used this nonce once before the properties run. */
export const SPENT_NONCE = "spent-nonce-of-the-fuzz-suite-0123456789";

/** `request` with the Signature-Input of `parts` and a signature over it by `key`. */
export async function withSignature(origin: string, request: FuzzRequest, parts: SignatureInputParts, key: SigningKey): Promise<FuzzRequest> {
  const input = renderSignatureInput(parts);
  const signature = await signatureOver(origin, request, input, parts.label, key);
  return { ...request, headers: { ...request.headers, "Signature-Input": input, Signature: signatureMember(parts.label, signature) } };
}

/** Whether a Signature-Input sent unsigned still reads as `original` (so the signature over that may still pass). */
export function readsAs(sent: FuzzRequest, label: string, original: string): boolean {
  return canonicalInnerList(sent.headers["Signature-Input"] ?? "", label) === canonicalInnerList(original, "sig1");
}

const inputOf = (request: FuzzRequest) => request.headers["Signature-Input"] ?? "";

export interface Sent {
  request: FuzzRequest;
  effect: Effect;
  /** Whether the signature is over the Signature-Input as sent (else over the unmutated one). */
  resigned: boolean;
  label: string;
}

/**
 * `request` signed as `parts` say by `context.key`, then `mutation` applied: what is sent, the effect the mutation
 * has by the contract, and whether the signature covers the Signature-Input as sent.
 */
export async function mutateSigned(
  origin: string,
  request: FuzzRequest,
  parts: SignatureInputParts,
  mutation: Mutation,
  context: { key: SigningKey; now: number; filler: Parameters<typeof fill>[2] },
): Promise<Sent> {
  const { key } = context;
  const valid = await withSignature(origin, request, parts, key);
  const withInput = async (mutated: SignatureInputParts, resign: boolean, effect: Effect): Promise<Sent> => {
    const signedOver = resign ? mutated : parts;
    const input = renderSignatureInput(mutated);
    const signature = await signatureOver(origin, request, renderSignatureInput(signedOver), signedOver.label, key);
    return {
      request: { ...request, headers: { ...request.headers, "Signature-Input": input, Signature: signatureMember(mutated.label, signature) } },
      effect,
      resigned: resign,
      label: mutated.label,
    };
  };
  const replace = (headers: Record<string, string>, effect: Effect): Sent => ({
    request: { ...request, headers: { ...request.headers, ...headers } },
    effect,
    resigned: false,
    label: "sig1",
  });
  const components = parts.components;
  switch (mutation.kind) {
    case "none":
      return { request: valid, effect: "ok", resigned: true, label: "sig1" };
    case "param": {
      const params = parts.params.filter(([name]) => name !== mutation.name);
      const value = mutation.value === null ? null : fill(mutation.value, context.now, context.filler);
      return withInput({ ...parts, params: value === null ? params : [...params, [mutation.name, value]] }, mutation.resign, mutation.effect);
    }
    case "drop-component":
      return withInput({ ...parts, components: components.filter((_item, index) => index !== mutation.index) }, mutation.resign, "malformed_signature");
    case "duplicate-component":
      return withInput({ ...parts, components: [...components, components[mutation.index] ?? '"@method"'] }, mutation.resign, "malformed_signature");
    case "add-component":
      return withInput({ ...parts, components: [...components, mutation.item] }, mutation.resign, mutation.effect);
    case "reorder-components":
      return withInput({ ...parts, components: mutation.order.map((index) => components[index] ?? "") }, mutation.resign, "ok");
    case "no-components":
      return withInput({ ...parts, components: [] }, mutation.resign, "malformed_signature");
    case "label": {
      const relabelled = await withInput({ ...parts, label: mutation.label }, true, mutation.effect);
      if (!mutation.inputOnly) return relabelled;
      return {
        ...relabelled,
        request: { ...relabelled.request, headers: { ...relabelled.request.headers, Signature: valid.headers.Signature ?? "" } },
        effect: "malformed_signature",
      };
    }
    case "flip-signature-bit":
    case "resize-signature": {
      const signature = await signatureOver(origin, request, renderSignatureInput(parts), "sig1", key);
      // hmac-sha256 signatures are 256 bits, ed25519 ones 512.
      const bit = mutation.kind === "flip-signature-bit" ? mutation.bit % (signature.length * 8) : 0;
      const changed =
        mutation.kind === "flip-signature-bit"
          ? signature.map((byte, index) => (index === bit >> 3 ? byte ^ (1 << (bit & 7)) : byte))
          : mutation.by < 0
            ? signature.subarray(0, -1)
            : new Uint8Array([...signature, 0]);
      return replace({ "Signature-Input": inputOf(valid), Signature: signatureMember("sig1", changed) }, "signature_invalid");
    }
    case "signature-value": {
      const real = (valid.headers.Signature ?? "").slice("sig1=".length);
      return replace({ "Signature-Input": inputOf(valid), Signature: `sig1=${mutation.value.replace("{sig}", real)}` }, mutation.effect);
    }
    case "extra-member":
      return mutation.header === "input"
        ? replace({ "Signature-Input": `${inputOf(valid)}, sig2=("@method");created=${context.now}` }, "malformed_signature")
        : replace({ Signature: `${valid.headers.Signature ?? ""}, sig2=:AAAA:` }, "malformed_signature");
    case "drop-header": {
      const { "Signature-Input": input = "", Signature: signature = "", ...rest } = valid.headers;
      const kept: Record<string, string> =
        mutation.headers === "input" ? { Signature: signature } : mutation.headers === "signature" ? { "Signature-Input": input } : {};
      return {
        request: { ...valid, headers: { ...rest, ...kept } },
        effect: mutation.headers === "both" ? "signature_missing" : "malformed_signature",
        resigned: false,
        label: "sig1",
      };
    }
    case "twice": {
      // Two field lines of one name (spelled apart so both are written); the server joins them with ", ".
      const name = mutation.header === "input" ? "Signature-Input" : "Signature";
      return {
        request: { ...valid, headers: { ...valid.headers, [name.toLowerCase()]: valid.headers[name] ?? "" } },
        effect: "any",
        resigned: true,
        label: "sig1",
      };
    }
    case "splice": {
      const name = mutation.header === "input" ? "Signature-Input" : "Signature";
      const text = valid.headers[name] ?? "";
      const at = mutation.at % (text.length + 1);
      const spliced = text.slice(0, at) + mutation.text + text.slice(at);
      if (mutation.header === "input" && mutation.resign) {
        const label = /^[^=]*/.exec(spliced)?.[0] ?? "sig1";
        const signature = await signatureOver(origin, request, spliced, label, key);
        return replace({ "Signature-Input": spliced, Signature: signatureMember(label, signature) }, "any");
      }
      // The same signature bytes under the same label may still pass; other bytes must not.
      const same = mutation.header === "signature" && signatureBytes(spliced, "sig1") === signatureBytes(text, "sig1");
      return replace({ [name]: spliced }, same ? "any" : "refused");
    }
    case "junk":
      return replace({ [mutation.header === "input" ? "Signature-Input" : "Signature"]: mutation.text }, "refused");
    case "oversize":
      return withInput({ ...parts, params: [...parts.params, ["x", JSON.stringify("o".repeat(mutation.chars))]] }, true, "ok");
  }
}
