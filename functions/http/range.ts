import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import type { ByteRange } from "../../shared/storage/index.ts";

const RANGES_SPECIFIER = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=(.*)$/s;
const RANGE_SPEC = /^(\d*)-(\d*)$/;

type RangeSpec = { first: number; last: number | undefined } | { suffix: number };

/**
 * The single byte range a `Range` header asks of a representation of `size` bytes, or null to serve it
 * whole (RFC 9110 section 14). Null also for a unit other than `bytes` and for several ranges: the gateway
 * builds no multipart responses and RFC 9110 lets a server ignore Range; and for a suffix range of an empty
 * representation, which selects the whole empty representation that Content-Range cannot express.
 * Throws `bad_request` on a syntax error and `range_not_satisfiable` when the range starts past the end.
 */
export function parseRange(header: string | null | undefined, size: number): ByteRange | null {
  if (header === null || header === undefined) return null;
  const specifier = RANGES_SPECIFIER.exec(header);
  if (!specifier) throw new VerigateError("bad_request", "Range must look like bytes=first-last, bytes=first- or bytes=-suffix", SHARE);
  if (specifier[1]?.toLowerCase() !== "bytes") return null;
  const specs = (specifier[2] ?? "")
    .split(",")
    .map((spec) => spec.trim())
    .filter((spec) => spec !== "")
    .map(parseSpec);
  const [only] = specs;
  if (!only) throw new VerigateError("bad_request", "Range names no range", SHARE);
  return specs.length === 1 ? resolve(only, size) : null;
}

function parseSpec(text: string): RangeSpec {
  const match = RANGE_SPEC.exec(text);
  const [, first = "", last = ""] = match ?? [];
  if (!match || (first === "" && last === ""))
    throw new VerigateError("bad_request", `range ${JSON.stringify(text)} is not first-last, first- or -suffix`, SHARE);
  if (first === "") return { suffix: Number(last) };
  const spec = { first: Number(first), last: last === "" ? undefined : Number(last) };
  if (spec.last !== undefined && spec.last < spec.first) throw new VerigateError("bad_request", "the range ends before it starts", SHARE);
  return spec;
}

function resolve(spec: RangeSpec, size: number): ByteRange | null {
  if ("suffix" in spec) {
    if (spec.suffix === 0) throw new VerigateError("range_not_satisfiable", "a suffix range of zero bytes selects nothing", SHARE);
    if (size === 0) return null;
    const length = Math.min(spec.suffix, size);
    return { offset: size - length, length };
  }
  if (spec.first >= size) throw new VerigateError("range_not_satisfiable", `the range starts at byte ${spec.first}; the object has ${size} bytes`, SHARE);
  const end = Math.min(spec.last ?? size - 1, size - 1);
  return { offset: spec.first, length: end - spec.first + 1 };
}
