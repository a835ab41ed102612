/** Crockford's base32: sortable as plain text, no letters that read as digits. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
/** 80 random bits: two versions minted in one millisecond collide with odds of about 2^-80. */
const RANDOM_BYTES = 10;

/** A version id as `newVersion` makes them: 26 characters of Crockford's base32. */
export const VERSION_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * A new version id in the ULID layout: 48 bits of milliseconds then 80 random bits, 26 characters that
 * sort by creation time. A version is never reused, and neither is the blob key derived from it.
 */
export function newVersion(nowMs: number): string {
  let time = "";
  for (let rest = Math.floor(nowMs), i = 0; i < TIME_CHARS; i++, rest = Math.floor(rest / 32)) {
    time = ALPHABET[rest % 32] + time;
  }
  return time + base32(crypto.getRandomValues(new Uint8Array(RANDOM_BYTES)));
}

/** Where a version's bytes live in object storage: one blob per version, written once. */
export function blobKeyFor(version: string): string {
  return `blobs/${version}`;
}

function base32(bytes: Uint8Array): string {
  let text = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += ALPHABET[(value >>> bits) & 31];
    }
  }
  return text;
}
