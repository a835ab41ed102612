import type { ByteRange } from "../storage/index.ts";

/**
 * Where an encrypted object's chunks sit in its blob (docs/ENCRYPTION.md "Ciphertext layout"). The manifest's
 * `chunk_size` stays the plaintext chunk size, so Range arithmetic on the object is unchanged; chunk i of the blob is
 * that chunk's ciphertext followed by its 16-byte tag, at offset i x (chunk_size + 16). An empty object still has one
 * chunk, a bare tag carrying the last-chunk flag, so that every encrypted blob ends in an authenticated end.
 */

/** AES-GCM's tag, appended to every chunk. */
export const CHUNK_TAG_BYTES = 16;

/** The chunk index is 4 bytes of the nonce: 2^32 chunks are 256 TiB even at the smallest chunk size (64 KiB). */
export const MAX_ENCRYPTED_CHUNKS = 2 ** 32;

/** Chunks of an encrypted object of `size` bytes: at least one. */
export function encryptedChunkCount(size: number, chunkSize: number): number {
  const count = Math.max(1, Math.ceil(size / chunkSize));
  if (count > MAX_ENCRYPTED_CHUNKS) throw new RangeError(`${count} chunks: at most ${MAX_ENCRYPTED_CHUNKS} fit the nonce`);
  return count;
}

/** The stored blob's size: the plaintext plus one tag per chunk. */
export function encryptedBlobSize(size: number, chunkSize: number): number {
  return size + CHUNK_TAG_BYTES * encryptedChunkCount(size, chunkSize);
}

/** Plaintext bytes in chunk `index`: `chunkSize` but for the last, which holds the rest (0 for an empty object). */
export function plaintextChunkLength(index: number, size: number, chunkSize: number): number {
  return Math.max(0, Math.min(chunkSize, size - index * chunkSize));
}

/** Whether chunk `index` is the object's last: its nonce carries the flag, so a blob cut at a chunk boundary fails. */
export function isLastChunk(index: number, size: number, chunkSize: number): boolean {
  return index === encryptedChunkCount(size, chunkSize) - 1;
}

/** The blob bytes and chunks a plaintext `span` needs: whole chunks only, since a tag covers its whole chunk. */
export interface CiphertextSpan {
  firstChunk: number;
  /** One past the last chunk read. */
  endChunk: number;
  /** Byte range of the blob holding chunks [firstChunk, endChunk). */
  range: ByteRange;
}

/**
 * The chunks covering plaintext `span` of an object of `size` bytes and where they are in the blob. An empty span
 * (an empty object, or a zero-length read) still reads the chunk at its offset, so even it is authenticated.
 */
export function ciphertextSpan(span: ByteRange, size: number, chunkSize: number): CiphertextSpan {
  if (span.offset < 0 || span.length < 0 || span.offset + span.length > size) throw new RangeError("span outside the object");
  const count = encryptedChunkCount(size, chunkSize);
  const firstChunk = Math.min(Math.floor(span.offset / chunkSize), count - 1);
  const endChunk = span.length === 0 ? firstChunk + 1 : Math.floor((span.offset + span.length - 1) / chunkSize) + 1;
  const stride = chunkSize + CHUNK_TAG_BYTES;
  const offset = firstChunk * stride;
  const end = Math.min(endChunk * stride, encryptedBlobSize(size, chunkSize));
  return { firstChunk, endChunk, range: { offset, length: end - offset } };
}
