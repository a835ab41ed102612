import fc from "fast-check";

/**
 * The cases of the object fuzz properties: raw key paths and list prefixes (percent-encodings, multibyte, lengths
 * around the limit, dot segments, route spellings) and the rules a key must follow (PROTOCOL section 3).
 */

/** PROTOCOL section 3. */
export const MAX_KEY_BYTES = 512;
export const ROUTE = "/v1/objects/";

/** Pieces of a raw path segment: plain text, multibyte UTF-8, and the encodings and characters key rules are about. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{1,10}$/) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }).map(encodeURIComponent) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      ...["%2F", "%2f", "%2e", "%2E%2E", ".", "..", "%00", "%0A", "%1F", "%7F", "%C2%80", "%C2%9F", "%5C", "%zz", "%", "%E2%82", "%ED%A0%80"],
      ...["%F0%9F%98", "%C0%AF", "%E0%80%AF", "%EF%BF%BF", "%F4%8F%BF%BF", "%252e", "%25", "+", "%20", "%3F", "%23", "'", "(", ")", "*", "!", "$"],
      ...["&", "=", ";", ",", ":", "@", "~", "[", "]", "\\", "|", "{", "^"],
    ),
  },
);
const segment = fc.array(piece, { maxLength: 3 }).map((pieces) => pieces.join(""));
const shortKey = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => segments.join("/"));
/** Keys around the 512-byte limit, of one-byte to four-byte characters, percent-encoded. */
const longKey = fc
  .record({
    bytes: fc.oneof(fc.integer({ min: 500, max: 520 }), fc.integer({ min: 1, max: 700 })),
    unit: fc.constantFrom("a", "%C3%A9", "%E2%82%AC", "%F0%9F%98%80"),
  })
  .map(({ bytes, unit }) => {
    const unitBytes = unit.length === 1 ? 1 : unit.length / 3;
    return `fuzz/${unit.repeat(Math.max(1, Math.ceil((bytes - 5) / unitBytes)))}`;
  });
export const keyPart = fc.oneof(
  { weight: 3, arbitrary: shortKey },
  { weight: 1, arbitrary: shortKey.map((key) => `fuzz/${key}`) },
  { weight: 2, arbitrary: longKey },
);
/** The route itself, spelled as it should be or with the spellings that once shifted the key (issue #10, finding 5). */
export const route = fc.oneof(
  { weight: 12, arbitrary: fc.constant(ROUTE) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "/v1/%6Fbjects/",
      "/v1/obj%65cts/",
      "/v1/objects/%2F",
      "/v1/objects//",
      "/v1//objects/",
      "/V1/objects/",
      "/v1/objects/./",
      "/v1/x/../objects/",
    ),
  },
);
export const querySuffix = fc.constantFrom("", "", "", "?x=1", "?", "?key=other");

/** PROTOCOL section 3: 1 to 512 bytes of UTF-8, no empty, `.` or `..` segment, no control character, no backslash. */
export function keyFollowsRules(key: string): boolean {
  const bytes = Buffer.byteLength(key);
  if (bytes < 1 || bytes > MAX_KEY_BYTES || /[\u0000-\u001f\u007f-\u009f\\]/.test(key)) return false;
  return !key.split("/").some((part) => part === "" || part === "." || part === "..");
}

/** The key a raw key path names, decoded once and checked by the rules; null when it names none. */
export function modelKey(raw: string): string | null {
  try {
    const key = decodeURIComponent(raw);
    return keyFollowsRules(key) ? key : null;
  } catch {
    return null;
  }
}

/** Percent-decodes once, keeping malformed escapes as they are. */
export function lenientDecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/** How a query value is decoded by the gateway's router (Hono): `+` is a space, then percent-decoding. */
export const queryValue = (text: string) => lenientDecode(text.replace(/\+/g, " "));
