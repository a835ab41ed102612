import { describe, expect, it } from "vitest";
import { issueActionToken, readActionToken } from "../../shared/lfs/action-token.ts";
import { MAX_BATCH_OBJECTS, parseBatchRequest } from "../../shared/lfs/batch-request.ts";
import { issueLinkToken } from "../../shared/presign/token.ts";

const SECRET = "s".repeat(40);
const OID = "a".repeat(64);
const CLAIMS = { op: "upload" as const, repo: "assets", oid: OID, size: 10, tid: "0".repeat(24), exp: 1_800_000_000, nonce: "n".repeat(32) };

describe("LFS action tokens", () => {
  it("round-trip their claims for their own op only", async () => {
    const token = await issueActionToken(CLAIMS, SECRET);
    expect(await readActionToken(token, SECRET, "upload")).toEqual(CLAIMS);
    await expect(readActionToken(token, SECRET, "download")).rejects.toMatchObject({ code: "not_found" });
    await expect(readActionToken(token, SECRET, "verify")).rejects.toMatchObject({ code: "not_found" });
  });

  it("are not gateway links, nor links action tokens, though one secret MACs both", async () => {
    const link = await issueLinkToken({ key: `lfs/assets/${OID}`, version: "01JV0000000000000000000000", exp: 1_800_000_000, kid: "ops" }, SECRET);
    await expect(readActionToken(link, SECRET, "download")).rejects.toMatchObject({ code: "not_found" });
    const [payload] = (await issueActionToken(CLAIMS, SECRET)).split(".");
    const [, linkMac] = link.split(".");
    await expect(readActionToken(`${payload}.${linkMac}`, SECRET, "upload")).rejects.toMatchObject({ code: "not_found" });
  });

  it("are refused under another secret, and with claims outside their rules even when MAC'd", async () => {
    await expect(readActionToken(await issueActionToken(CLAIMS, SECRET), "t".repeat(40), "upload")).rejects.toMatchObject({ code: "not_found" });
    for (const bad of [{ oid: "../x" }, { oid: OID.toUpperCase() }, { repo: "a/b" }, { size: -1 }, { version: "../../x" }]) {
      const token = await issueActionToken({ ...CLAIMS, ...bad }, SECRET);
      await expect(readActionToken(token, SECRET, "upload"), JSON.stringify(bad)).rejects.toMatchObject({ code: "not_found" });
    }
  });
});

describe("LFS batch requests", () => {
  it("take a ref, transfers with basic, and no hash_algo", () => {
    const request = parseBatchRequest({
      operation: "download",
      ref: { name: "refs/heads/main" },
      transfers: ["lfs-standalone-file", "basic"],
      objects: [{ oid: OID, size: 1 }],
    });
    expect(request).toEqual({ operation: "download", objects: [{ oid: OID, size: 1 }] });
  });

  it("refuse another hash, too many objects, no basic transfer, or an unknown operation", () => {
    expect(() => parseBatchRequest({ operation: "upload", objects: [], hash_algo: "sha1" })).toThrow(
      expect.objectContaining({ code: "unsupported_hash_algo" }),
    );
    const objects = Array.from({ length: MAX_BATCH_OBJECTS + 1 }, () => ({ oid: OID, size: 1 }));
    expect(() => parseBatchRequest({ operation: "upload", objects })).toThrow(expect.objectContaining({ code: "too_large" }));
    expect(() => parseBatchRequest({ operation: "upload", objects: [], transfers: ["tus"] })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(() => parseBatchRequest({ operation: "delete", objects: [] })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(() => parseBatchRequest([])).toThrow(expect.objectContaining({ code: "bad_request" }));
  });
});
