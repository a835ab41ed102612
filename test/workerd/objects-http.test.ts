import { describe, expect, it } from "vitest";
import { VerigateError } from "../../shared/errors/index.ts";
import { ifRangeHolds, isNotModified, notModifiedHeaders, objectResponseHead, rangeNotSatisfiableHeaders } from "../../functions/http/object-headers.ts";
import { parseRange } from "../../functions/http/range.ts";
import { ifMatchHolds } from "../../shared/objects/entity-tags.ts";
import type { Manifest } from "../../shared/objects/manifest.ts";

function outcome(header: string | undefined, size: number): unknown {
  try {
    return parseRange(header, size);
  } catch (error) {
    return error instanceof VerigateError ? error.code : error;
  }
}

describe("parseRange", () => {
  it.each([
    ["bytes=0-0", 100, { offset: 0, length: 1 }],
    ["bytes=10-19", 100, { offset: 10, length: 10 }],
    ["bytes=90-200", 100, { offset: 90, length: 10 }],
    ["bytes=99-", 100, { offset: 99, length: 1 }],
    ["bytes=0-", 100, { offset: 0, length: 100 }],
    ["bytes=-10", 100, { offset: 90, length: 10 }],
    ["bytes=-1000", 100, { offset: 0, length: 100 }],
    ["Bytes = 5-6", 100, { offset: 5, length: 2 }],
    ["bytes=5-6,", 100, { offset: 5, length: 2 }],
    ["bytes=0-99999999999999999999", 100, { offset: 0, length: 100 }],
  ])("reads %s of %i bytes as a single range", (header, size, range) => {
    expect(outcome(header, size)).toEqual(range);
  });

  it.each([
    [undefined, "no header"],
    ["bytes=0-1,5-6", "several ranges: served whole (RFC 9110 lets a server ignore Range)"],
    ["bytes=0-1, -5", "several ranges, one a suffix"],
    ["items=0-1", "an unknown range unit"],
  ])("serves the whole object for %s (%s)", (header, _reason) => {
    expect(outcome(header, 100)).toBeNull();
  });

  it("serves an empty object whole for a suffix range, which Content-Range cannot express", () => {
    expect(outcome("bytes=-5", 0)).toBeNull();
  });

  it.each([
    "bytes=",
    "bytes=abc",
    "bytes=5",
    "bytes=-",
    "bytes=10-5",
    "bytes=1-2-3",
    "bytes=+1-2",
    "bytes=0x10-",
    "0-5",
    "bytes 0-5",
    "bytes=0-1,10-5",
    "bytes=0-1,x",
  ])("refuses the malformed %j with bad_request", (header) => {
    expect(outcome(header, 100)).toBe("bad_request");
  });

  it.each([
    ["bytes=100-", 100],
    ["bytes=100-200", 100],
    ["bytes=-0", 100],
    ["bytes=0-", 0],
    ["bytes=0-0", 0],
  ])("refuses %s of %i bytes with range_not_satisfiable", (header, size) => {
    expect(outcome(header, size)).toBe("range_not_satisfiable");
  });
});

const manifest: Manifest = {
  key: "team-a/report.pdf",
  version: "01JDK8Y2W8M6Q3N4P5R6S7T8V9",
  size: 1000,
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  chunk_size: 65536,
  chunks: ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
  content_type: "application/pdf",
  created_at: "2026-11-20T10:11:12.345Z",
  keyid: "ops",
  blob: "blobs/01JDK8Y2W8M6Q3N4P5R6S7T8V9",
};
const etag = `"${manifest.sha256}"`;

describe("object response headers", () => {
  it("describes the whole object on a 200", () => {
    expect(objectResponseHead(manifest).status).toBe(200);
    expect(objectResponseHead(manifest).headers).toEqual({
      "Content-Length": "1000",
      "Content-Type": "application/pdf",
      ETag: etag,
      "Repr-Digest": "sha-256=:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=:",
      "Accept-Ranges": "bytes",
      "Last-Modified": "Fri, 20 Nov 2026 10:11:12 GMT",
    });
  });

  it("describes the part on a 206, keeping the whole representation's Repr-Digest", () => {
    const { status, headers } = objectResponseHead(manifest, { offset: 100, length: 50 });
    expect(status).toBe(206);
    expect(headers).toMatchObject({
      "Content-Length": "50",
      "Content-Range": "bytes 100-149/1000",
      "Repr-Digest": objectResponseHead(manifest).headers["Repr-Digest"],
    });
  });

  it("gives a 304 its validators only, and a 416 the current length", () => {
    expect(notModifiedHeaders(manifest)).toEqual({ ETag: etag, "Last-Modified": "Fri, 20 Nov 2026 10:11:12 GMT" });
    expect(rangeNotSatisfiableHeaders(1000)).toEqual({ "Content-Range": "bytes */1000" });
  });
});

describe("conditional requests", () => {
  it.each([
    [etag, true],
    [`W/${etag}`, true],
    [`"other", ${etag}`, true],
    ["*", true],
    [`"other"`, false],
    [manifest.sha256, false],
    ["", false],
    [undefined, false],
  ])("If-None-Match %j answers 304: %s", (header, expected) => {
    expect(isNotModified(header, manifest)).toBe(expected);
  });

  it.each([
    [etag, true],
    [`"other", ${etag}`, true],
    ["*", true],
    [`W/${etag}`, false],
    [`"other"`, false],
    [manifest.sha256, false],
  ])("If-Match %j allows the write: %s", (header, expected) => {
    expect(ifMatchHolds(header, manifest)).toBe(expected);
  });

  it("If-Match never holds on a missing key, not even *", () => {
    expect(ifMatchHolds("*", null)).toBe(false);
    expect(ifMatchHolds(etag, null)).toBe(false);
  });

  it.each([
    [undefined, true],
    [etag, true],
    [` ${etag} `, true],
    [`W/${etag}`, false],
    [`"other"`, false],
    ["Fri, 20 Nov 2026 10:11:12 GMT", false],
  ])("If-Range %j lets the range apply: %s", (header, expected) => {
    expect(ifRangeHolds(header, manifest)).toBe(expected);
  });
});
