import { describe, expect, it } from "vitest";
import { VerigateError } from "../../shared/errors/index.ts";
import { parseObjectKey } from "../../shared/objects/key.ts";

function rejection(raw: string): string | undefined {
  try {
    parseObjectKey(raw);
    return undefined;
  } catch (error) {
    return error instanceof VerigateError ? error.code : String(error);
  }
}

describe("parseObjectKey (PROTOCOL section 3)", () => {
  it.each([
    ["a.txt", "a.txt"],
    ["team-a/reports/2026.csv", "team-a/reports/2026.csv"],
    ["a%20b", "a b"],
    ["a%2Fb", "a/b"],
    ["caf%C3%A9", "café"],
    ["...", "..."],
    [".hidden/a..b", ".hidden/a..b"],
  ])("accepts %s as %s", (raw, key) => {
    expect(parseObjectKey(raw)).toBe(key);
  });

  it.each(["a/../b", "..", ".", "a/.", "./a", "a/..", "../a"])("refuses the dot segment in %s", (raw) => {
    expect(rejection(raw)).toBe("invalid_key_name");
  });

  it.each(["a/%2e%2e/b", "%2E%2E", "%2e", "a/%2E", "%2e%2E/a"])("refuses the percent-encoded dot segment in %s", (raw) => {
    expect(rejection(raw)).toBe("invalid_key_name");
  });

  it("decodes once: a double-encoded dot segment is the literal text %2e%2e, which is allowed", () => {
    expect(parseObjectKey("a/%252e%252e/b")).toBe("a/%2e%2e/b");
    expect(parseObjectKey("%252E")).toBe("%2E");
  });

  it.each(["a\u0000b", "a\nb", "a\tb", "a\u001fb", "a\u007fb", "a\u0085b", "a\u009fb", "%00", "a%0ab", "a%0Db", "%7f", "%c2%85", "%C2%9F"])(
    "refuses the control character in %j",
    (raw) => {
      expect(rejection(raw)).toBe("invalid_key_name");
    },
  );

  it("allows the first characters past the control ranges", () => {
    expect(parseObjectKey("a%20b%7e%c2%a0")).toBe("a b~\u00a0");
  });

  it.each(["a\\b", "a%5cb", "a%5Cb", "\\"])("refuses the backslash in %s", (raw) => {
    expect(rejection(raw)).toBe("invalid_key_name");
  });

  it.each(["a//b", "/a", "a/", "/", "//", "a/%2F/b", "%2Fa"])("refuses the empty segment in %s", (raw) => {
    expect(rejection(raw)).toBe("invalid_key_name");
  });

  it("refuses the empty key", () => {
    expect(rejection("")).toBe("invalid_key_name");
  });

  it("counts the limit in UTF-8 bytes after decoding: 512 accepted, 513 refused", () => {
    expect(parseObjectKey("a".repeat(512))).toHaveLength(512);
    expect(rejection("a".repeat(513))).toBe("invalid_key_name");
    const euro = "%E2%82%AC"; // 3 bytes each: 170 of them are 510 bytes
    expect(new TextEncoder().encode(parseObjectKey(euro.repeat(170) + "ab")).length).toBe(512);
    expect(rejection(euro.repeat(170) + "abc")).toBe("invalid_key_name");
    expect(rejection("\u20ac".repeat(171))).toBe("invalid_key_name");
    expect(parseObjectKey("%41".repeat(512))).toBe("A".repeat(512));
  });

  it.each(["%zz", "a%", "a%2", "%E2%82", "%C0%AF", "%ED%A0%80"])("refuses the malformed escape %s", (raw) => {
    expect(rejection(raw)).toBe("invalid_key_name");
  });

  it("refuses a lone surrogate, which has no UTF-8 form", () => {
    expect(rejection("a\ud800b")).toBe("invalid_key_name");
    expect(parseObjectKey("\ud83d\ude00")).toBe("😀");
  });
});
