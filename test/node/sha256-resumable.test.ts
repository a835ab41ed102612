import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../shared/crypto/encoding.ts";
import { ResumableSha256 } from "../../shared/crypto/sha256-resumable.ts";
import { fuzzParameters } from "./support/fuzz.ts";

/** The reference: WebCrypto's SHA-256 of the whole input. */
async function webCryptoHex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

function hashOnce(bytes: Uint8Array): string {
  const hasher = new ResumableSha256();
  hasher.update(bytes);
  return toHex(hasher.digest());
}

/** Bytes whose every position is distinct enough that a misplaced or dropped byte changes the digest. */
function patterned(length: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, (_, i) => (i * 131 + (i >> 8)) & 0xff);
}

/** Inputs up to a few blocks long, cut at sorted points: one `update` per piece. */
const splitInput = fc.uint8Array({ maxLength: 700 }).chain((bytes) =>
  fc.record({
    bytes: fc.constant(bytes),
    cuts: fc.uniqueArray(fc.nat({ max: bytes.length }), { maxLength: 8 }).map((cuts) => cuts.sort((a, b) => a - b)),
  }),
);

function pieces(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const bounds = [0, ...cuts, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
}

describe("ResumableSha256", () => {
  it("gives the FIPS 180-4 example digests", () => {
    expect(hashOnce(utf8(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hashOnce(utf8("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hashOnce(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    expect(hashOnce(utf8("a".repeat(1_000_000)))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  it("matches WebCrypto on lengths around the padding boundaries (55, 56, 63, 64, 65 bytes and their neighbours)", async () => {
    for (const length of [0, 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 4096 + 55]) {
      const bytes = patterned(length);
      expect(hashOnce(bytes), `${length} bytes`).toBe(await webCryptoHex(bytes));
    }
  });

  it("matches WebCrypto on random inputs fed in random pieces", async () => {
    await fc.assert(
      fc.asyncProperty(splitInput, async ({ bytes, cuts }) => {
        const hasher = new ResumableSha256();
        for (const piece of pieces(bytes, cuts)) hasher.update(piece);
        expect(toHex(hasher.digest())).toBe(await webCryptoHex(bytes));
      }),
      fuzzParameters(300),
    );
  });

  it("continues exactly from a state exported and imported at random points", async () => {
    await fc.assert(
      fc.asyncProperty(splitInput, async ({ bytes, cuts }) => {
        let hasher = new ResumableSha256();
        for (const piece of pieces(bytes, cuts)) {
          hasher.update(piece);
          // Through JSON, as a session checkpoint stores it.
          hasher = ResumableSha256.fromState(JSON.parse(JSON.stringify(hasher.exportState())) as string);
        }
        expect(toHex(hasher.digest())).toBe(await webCryptoHex(bytes));
      }),
      fuzzParameters(300),
    );
  });

  it("hashes views into a larger buffer by their own bytes only", async () => {
    const whole = patterned(300);
    const view = whole.subarray(7, 7 + 200);
    expect(hashOnce(view)).toBe(await webCryptoHex(whole.slice(7, 7 + 200)));
  });

  it("keeps its state small: 40 bytes plus the bytes of an unfinished block", () => {
    const hasher = new ResumableSha256();
    hasher.update(patterned(64 * 1000 + 63));
    expect(atob(hasher.exportState()).length).toBe(40 + 63);
    hasher.update(patterned(1));
    expect(atob(hasher.exportState()).length).toBe(40);
  });

  it("refuses a state that is not one, and any use after digest", () => {
    const state = new ResumableSha256();
    state.update(patterned(10));
    const text = state.exportState();
    expect(() => ResumableSha256.fromState(btoa(atob(text).slice(0, -1)))).toThrow(/byte count/);
    expect(() => ResumableSha256.fromState(btoa("short"))).toThrow(/too short/);
    expect(() => ResumableSha256.fromState("not base64!")).toThrow();
    const finished = ResumableSha256.fromState(text);
    finished.digest();
    expect(() => finished.update(patterned(1))).toThrow(/after digest/);
    expect(() => finished.digest()).toThrow(/twice/);
    expect(() => finished.exportState()).toThrow(/after digest/);
  });
});
