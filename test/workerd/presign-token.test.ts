import { describe, expect, it } from "vitest";
import { issueLinkToken, readLinkToken } from "../../shared/presign/token.ts";

const SECRET = "s".repeat(40);
const CLAIMS = { key: "team-a/model.bin", version: "01JV0000000000000000000000", exp: 1_800_000_000, kid: "ops", nonce: "n".repeat(32) };

describe("gateway link tokens", () => {
  it("round-trip their claims", async () => {
    expect(await readLinkToken(await issueLinkToken(CLAIMS, SECRET), SECRET)).toEqual(CLAIMS);
  });

  it("are refused when any single character is changed", async () => {
    const token = await issueLinkToken(CLAIMS, SECRET);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let i = 0; i < token.length; i++) {
      if (token[i] === ".") continue;
      const replacement = alphabet[(alphabet.indexOf(token[i]!) + 1) % alphabet.length];
      const altered = token.slice(0, i) + replacement + token.slice(i + 1);
      await expect(readLinkToken(altered, SECRET), `position ${i}`).rejects.toMatchObject({ code: "not_found" });
    }
  });

  it("are refused under another secret, truncated, or extended", async () => {
    const token = await issueLinkToken(CLAIMS, SECRET);
    await expect(readLinkToken(token, "t".repeat(40))).rejects.toMatchObject({ code: "not_found" });
    await expect(readLinkToken(token.slice(0, -1), SECRET)).rejects.toMatchObject({ code: "not_found" });
    await expect(readLinkToken(`${token}A`, SECRET)).rejects.toMatchObject({ code: "not_found" });
    await expect(readLinkToken("no-dot-here", SECRET)).rejects.toMatchObject({ code: "not_found" });
  });

  it("carry no secret: the payload decodes to the claims alone", async () => {
    const token = await issueLinkToken(CLAIMS, SECRET);
    const payload = atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"));
    expect(payload).not.toContain(SECRET);
    expect(JSON.parse(payload)).toEqual({ v: 1, ...CLAIMS });
  });
});
