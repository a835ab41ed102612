/**
 * The one canonical byte encoding for what a MAC or an AEAD binds (chunk associated data, data key wrapping, manifest
 * signatures; docs/ENCRYPTION.md "Canonical encoding"): each field is its 4-byte big-endian length then its bytes, so
 * no two different field lists encode alike, whatever the fields contain. Never JSON text: JSON has many spellings of
 * one value, and a MAC must cover exactly one.
 */

/** The largest field: a length must fit the 4-byte prefix. */
const MAX_FIELD_BYTES = 0xffff_ffff;

const encoder = new TextEncoder();

/** Lone UTF-16 surrogates: TextEncoder turns each into U+FFFD, so two different strings would encode alike. */
const LONE_SURROGATE = /\p{Cs}/u;

/** `fields` each prefixed by its length, concatenated. */
export function lengthPrefixed(fields: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const field of fields) {
    if (field.length > MAX_FIELD_BYTES) throw new RangeError(`a canonical field is at most ${MAX_FIELD_BYTES} bytes`);
    total += 4 + field.length;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const field of fields) {
    view.setUint32(at, field.length);
    out.set(field, at + 4);
    at += 4 + field.length;
  }
  return out;
}

/** The UTF-8 bytes of `text`, refusing text with a lone surrogate rather than encoding it lossily. */
export function textField(text: string): Uint8Array<ArrayBuffer> {
  if (LONE_SURROGATE.test(text)) throw new TypeError("canonical text has a lone UTF-16 surrogate");
  return encoder.encode(text);
}

/** `value` as 4 bytes big-endian. */
export function u32Field(value: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`${value} is not a 32-bit unsigned integer`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** `value` as 8 bytes big-endian; only safe integers, so every encoded number is the one the JSON held. */
export function u64Field(value: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a non-negative safe integer`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}
