import { createCipheriv, createHash } from "node:crypto";
import { MIB } from "../../shared/bytes.ts";

/** The piece size the generator yields: large enough that the client's per-piece overhead is negligible. */
const PIECE_BYTES = MIB;
/** AES-128-CTR: 16-byte key and counter block. */
const AES_BLOCK_BYTES = 16;

/**
 * Deterministic incompressible bytes (an AES-CTR keystream seeded by `seed`), generated piece by piece so an
 * object of any size is streamed without ever being held whole, and regenerated identically for every pass.
 */
export function* payload(seed: string, size: number): Generator<Buffer> {
  const material = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-128-ctr", material.subarray(0, AES_BLOCK_BYTES), material.subarray(AES_BLOCK_BYTES));
  const zeros = Buffer.alloc(PIECE_BYTES);
  for (let sent = 0; sent < size; sent += PIECE_BYTES) {
    yield cipher.update(zeros.subarray(0, Math.min(PIECE_BYTES, size - sent)));
  }
}

/** SHA-256 of `payload(seed, size)`, by one pass over the generator. */
export function payloadSha256(seed: string, size: number): Buffer {
  const hash = createHash("sha256");
  for (const piece of payload(seed, size)) hash.update(piece);
  return hash.digest();
}

/**
 * The bytes of `payload(seed, size)` from `offset` (a multiple of 16) for `length` bytes, without generating what
 * comes before: the CTR counter block is moved forward by `offset / 16`, so parts can be produced in any order.
 */
export function* payloadSlice(seed: string, offset: number, length: number): Generator<Buffer> {
  if (offset % AES_BLOCK_BYTES !== 0) throw new Error(`payload slice offset ${offset} is not a multiple of ${AES_BLOCK_BYTES}`);
  const material = createHash("sha256").update(seed).digest();
  const counter = Buffer.from(material.subarray(AES_BLOCK_BYTES));
  let carry = BigInt(offset / AES_BLOCK_BYTES);
  for (let index = AES_BLOCK_BYTES - 1; index >= 0 && carry > 0n; index--) {
    const sum = BigInt(counter[index] ?? 0) + (carry & 0xffn);
    counter[index] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  const cipher = createCipheriv("aes-128-ctr", material.subarray(0, AES_BLOCK_BYTES), counter);
  const zeros = Buffer.alloc(PIECE_BYTES);
  for (let sent = 0; sent < length; sent += PIECE_BYTES) {
    yield cipher.update(zeros.subarray(0, Math.min(PIECE_BYTES, length - sent)));
  }
}
