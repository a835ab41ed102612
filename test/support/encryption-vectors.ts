/**
 * Known-answer vectors of docs/ENCRYPTION.md's constructions, pinned so that any change to a label, a field order, the
 * nonce layout or a derivation fails a test. They were produced once by an independent implementation of the document
 * with node:crypto and Buffer (hkdfSync, createCipheriv("aes-256-gcm"), createHmac), not by the code under test;
 * test/node/encryption-vectors.test.ts is that implementation and recomputes every value here.
 *
 * Inputs: byte sequences counting up from a start (`sequence`), so each is easy to rebuild anywhere.
 */

/** `length` bytes counting up from `start`, wrapping at 256. */
export function sequence(start: number, length: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, (_, index) => (start + index) & 0xff);
}

export const VECTOR = {
  /** The deployment key (bytes 0x00..0x1f) under id `k1`, as ENCRYPTION_KEYS holds it. */
  deploymentKeyBase64: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  kid: "k1",
  /** The data key: bytes 0x40..0x5f. */
  dataKey: sequence(0x40, 32),
  /** The nonce prefix: bytes 0xa0..0xa6. */
  noncePrefix: sequence(0xa0, 7),
  noncePrefixBase64: "oKGio6Slpg==",
  key: "team-a/model.bin",
  version: "01JV0000000000000000000000",
  /** Chunk 0, not last, of "verigate chunk zero": ciphertext then tag, hex. */
  chunk0: { plaintext: "verigate chunk zero", sealed: "458dec7751ee5c64e3ee26a21ea6b5d911aec0ad02d79eeb29f5bba2808884e71117ec" },
  /** Chunk 1, last, of "end". */
  chunk1Last: { plaintext: "end", sealed: "16222eaa2ab520e5dd05ce537bdf9e3998d477" },
  /** The one chunk of an empty object: chunk 0, last, no plaintext: a bare tag. */
  emptyLast: { sealed: "99e56c2968d801ede279e416acf5c770" },
  /** The data key wrapped under k1 for key/version with the wrapping nonce 0xc0..0xcb: nonce, sealed key, tag. */
  wrappedKey: "wMHCw8TFxsfIycrLEDxNA4BGXlqcDyIGlMsn6RiwIvOIkaur1v1Ftf0W+uZvOWaCkUW9T/4/TYnej8+E",
  /** k1's check value. */
  keyCheck: "oj-DaaAtwHHqIe13b7v-gw",
  /** The MAC of `vectorManifest()` signed under k1. */
  manifestMac: "tNJTwqiDRR2rnnwn27xPMmkpXke-z762qKSfCLNRGTM",
  /** HMAC of "payload" under the presign link key of PRESIGN_SECRET "s" x 40: existing links keep verifying. */
  presignSecret: "s".repeat(40),
  presignLinkMac: "UblZwGOCB73Du50-9XXDbdc4ukrw_618sf3Ym-UbLec",
} as const;

/** The manifest the MAC vector signs: one inline digest, encrypted under k1. */
export function vectorManifest() {
  return {
    key: VECTOR.key,
    version: VECTOR.version,
    size: 22,
    sha256: "ab".repeat(32),
    chunk_size: 65536,
    chunks: ["cd".repeat(32)],
    content_type: "application/octet-stream",
    created_at: "2026-12-01T00:00:00.000Z",
    keyid: "ops",
    blob: `blobs/${VECTOR.version}`,
    encryption: { scheme: "aes256gcm-stream-v1" as const, kid: VECTOR.kid, wrapped_key: VECTOR.wrappedKey, nonce_prefix: VECTOR.noncePrefixBase64 },
  };
}
