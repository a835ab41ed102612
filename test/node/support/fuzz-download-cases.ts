import fc from "fast-check";

/**
 * The cases of the download fuzz properties: Range headers around chunk and object boundaries and what each deserves
 * (RFC 9110 and README's decisions), and damaged or forged link tokens (PROTOCOL section 4).
 */

/** The smallest chunk the gateway allows, so the object spans two chunks and ranges cross the boundary. */
export const CHUNK = 64 * 1024;
export const SIZE = CHUNK + 100;

/** Stands for "200 or 400" (see `deservedRange`). */
export const EMPTY_RANGE = -1;

/** Offsets where range handling can go wrong: chunk and object boundaries, and numbers past what a double holds. */
const offset = fc.oneof(
  fc.constantFrom(0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, SIZE - 2, SIZE - 1, SIZE, SIZE + 1, 2 ** 31, 2 ** 53, 2 ** 53 + 2).map(String),
  fc.nat(SIZE + 10).map(String),
  fc.constantFrom("99999999999999999999999", "00", "007", "1e3", "-1", "0x10", "", " 1"),
);
const spec = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(offset, offset).map(([first, last]) => `${first}-${last}`) },
  { weight: 2, arbitrary: offset.map((first) => `${first}-`) },
  { weight: 2, arbitrary: offset.map((suffix) => `-${suffix}`) },
  { weight: 1, arbitrary: fc.constantFrom("-", "", "1-2-3", "a-b", "1 - 2", "--1") },
);
const space = fc.constantFrom("", "", " ", "  ", "\t");
/** Range headers: mostly RFC 9110 byte ranges around the interesting offsets, some other units and junk. */
export const rangeHeader = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom("bytes", "bytes", "bytes", "Bytes", "BYTES", "items", "none"), space, fc.array(spec, { minLength: 1, maxLength: 3 }), space)
      .map(([unit, before, specs, after]) => `${before}${unit}${after}=${specs.join(`,${after}`)}`),
  },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(..."bytes=0123456789-, ;\t*"), maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

export type Validator = "etag" | "weak-etag" | "other-etag" | "star" | "date" | undefined;
export const validator = fc.constantFrom<Validator>(undefined, undefined, undefined, undefined, "etag", "weak-etag", "other-etag", "star", "date");

/**
 * The answer a GET or HEAD of an object of `size` bytes deserves for these headers, by RFC 9110 and README's
 * decisions: one satisfiable range is 206, several or another unit are the whole object (200), a syntax error is
 * 400, a first byte past the end is 416; If-None-Match first, If-Range lets the range count only for the current tag.
 */
export function deservedRange(
  range: string | undefined,
  size: number,
  ifNoneMatch: Validator,
  ifRange: Validator,
): { status: number; first?: number; last?: number } {
  if (ifNoneMatch === "etag" || ifNoneMatch === "weak-etag" || ifNoneMatch === "star") return { status: 304 };
  // An empty field value is no field on Workers (workerd drops it) and a syntax error on Node: either answer will do.
  if (range?.trim() === "") return { status: EMPTY_RANGE };
  if (range === undefined || (ifRange !== undefined && ifRange !== "etag")) return { status: 200 };
  const specifier = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=(.*)$/s.exec(range);
  if (!specifier) return { status: 400 };
  if (specifier[1]?.toLowerCase() !== "bytes") return { status: 200 };
  const specs = (specifier[2] ?? "")
    .split(",")
    .map((text) => text.trim())
    .filter((text) => text !== "");
  const parsed = specs.map((text) => /^(\d*)-(\d*)$/.exec(text));
  if (
    parsed.length === 0 ||
    parsed.some((match) => !match || (match[1] === "" && match[2] === "") || (match[1] !== "" && match[2] !== "" && Number(match[2]) < Number(match[1])))
  ) {
    return { status: 400 };
  }
  if (parsed.length > 1) return { status: 200 };
  const [, first = "", last = ""] = parsed[0] ?? [];
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return { status: 416 };
    return size === 0 ? { status: 200 } : { status: 206, first: Math.max(0, size - suffix), last: size - 1 };
  }
  if (Number(first) >= size) return { status: 416 };
  return { status: 206, first: Number(first), last: Math.min(last === "" ? size - 1 : Number(last), size - 1) };
}

export type Damage = { kind: string; at?: number; text?: string; to?: number };
/** Ways to damage a genuine token: most make another token, some (a query, an escape) leave the same one. */
export const tokenDamage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      text: fc.constantFrom(".", "=", "A", "-", "_", "+", "/", "%2E", "%41", "%", "..", "~"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("encode" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("swap-mac" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pad" as const), to: fc.constantFrom(4095, 4096, 4097, 10_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("junk" as const), text: fc.stringMatching(/^[A-Za-z0-9_.~-]{0,80}$/) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("suffix" as const), text: fc.constantFrom("?a=b", "?", "/", "/x", "%2Fx", ";x", "#") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("none" as const) }) },
);

/**
 * Claims a forger holding PRESIGN_SECRET could sign, to reach what the gateway does after the MAC: each with the
 * answer it deserves (PROTOCOL section 4). `{version}` is the link's version, `{other}` another object's.
 */
export const FORGED: [claims: Record<string, unknown>, deserves: string][] = [
  [{}, "200"],
  [{ extra: [1, { x: null }] }, "200"],
  [{ exp: "past" }, "410 link_expired"],
  [{ exp: 1.5 }, "404 not_found"],
  [{ exp: "soon" }, "404 not_found"],
  [{ exp: 2 ** 60 }, "404 not_found"],
  [{ kid: "nobody" }, "410 link_revoked"],
  [{ kid: "fuzz-revoked" }, "410 link_revoked"],
  [{ kid: "x".repeat(600) }, "410 link_revoked"],
  [{ kid: 5 }, "404 not_found"],
  [{ version: "nope" }, "404 not_found"],
  [{ version: "{other}" }, "404 not_found"],
  [{ version: "v".repeat(600) }, "404 not_found"],
  [{ version: "../{version}" }, "404 not_found"],
  [{ key: "fuzz/empty" }, "404 not_found"],
  [{ key: null }, "404 not_found"],
  [{ v: 2 }, "404 not_found"],
  [{ v: "1" }, "404 not_found"],
  [{ nonce: 5 }, "404 not_found"],
  [{ nonce: "{fresh}" }, "200"],
];

/** A token the router reads as the genuine one: the same text once percent-decoded, before any query or fragment. */
export function readsAsToken(sent: string, token: string): boolean {
  const path = sent.split(/[?#]/)[0] ?? "";
  try {
    return decodeURIComponent(path) === token;
  } catch {
    return false;
  }
}

/** `token` damaged as `damage` says; `other` is another genuine token, whose MAC a swap takes. */
export function damaged(token: string, other: string, damage: Damage): string {
  const at = (damage.at ?? 0) % (token.length + 1);
  switch (damage.kind) {
    case "flip": {
      const index = at % token.length;
      return `${token.slice(0, index)}${token[index] === "A" ? "B" : "A"}${token.slice(index + 1)}`;
    }
    case "cut":
      return token.slice(0, at);
    case "insert":
      return `${token.slice(0, at)}${damage.text ?? ""}${token.slice(at)}`;
    case "encode": {
      const index = at % token.length;
      return `${token.slice(0, index)}%${token.charCodeAt(index).toString(16).toUpperCase()}${token.slice(index + 1)}`;
    }
    case "swap-mac":
      return `${token.split(".")[0]}.${other.split(".")[1]}`;
    case "pad":
      return `${token}${"A".repeat(Math.max(0, (damage.to ?? 0) - token.length))}`;
    case "junk":
      return damage.text ?? "";
    case "suffix":
      return `${token}${damage.text ?? ""}`;
    default:
      return token;
  }
}
