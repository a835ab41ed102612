import { lengthPrefixed, textField, u32Field } from "./canonical.ts";
import { CHUNK_TAG_BYTES, MAX_ENCRYPTED_CHUNKS } from "./chunk-layout.ts";
import { EncryptionFailure } from "./failures.ts";

/**
 * Per-chunk AES-256-GCM in the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizar 2015; the shape of Tink's
 * streaming AEAD and of age): chunk i is sealed under the object's data key with the nonce
 * `prefix (7 bytes) || i (4 bytes, big-endian) || last (1 byte: 1 for the final chunk, else 0)` and the associated
 * data `lengthPrefixed("verigate chunk v1", object key, version, i as 4 bytes big-endian)` (docs/ENCRYPTION.md).
 *
 * What a successful `decryptChunk` proves: these bytes were sealed under this data key as chunk i of this object key
 * and version, and as its last chunk exactly when `last` says so. So chunks cannot be reordered, dropped, moved
 * between objects or versions, or the blob cut at a chunk boundary (the new last chunk lacks the flag). What the
 * caller must still do: take `last` from the manifest's size (chunk-layout.ts), never from the blob, and read a
 * stream to its flagged chunk before calling it complete.
 *
 * WebCrypto only, so the same bytes come out of workerd and Node.
 */

/** The per-object random part of every nonce; with the 4-byte index and the flag byte it fills GCM's 12 bytes. */
export const NONCE_PREFIX_BYTES = 7;
const NONCE_BYTES = 12;
const CHUNK_LABEL = "verigate chunk v1";

/** What seals and opens one object version's chunks. */
export interface ObjectCipher {
  readonly noncePrefix: Uint8Array<ArrayBuffer>;
  readonly key: string;
  readonly version: string;
  encrypt(index: number, last: boolean, plaintext: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>>;
  /** The chunk's plaintext; throws `EncryptionFailure` `chunk_invalid` when its tag fails, and returns nothing then. */
  decrypt(index: number, last: boolean, ciphertext: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>>;
}

/** A fresh nonce prefix for a new object version. */
export function newNoncePrefix(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(NONCE_PREFIX_BYTES));
}

/** The cipher of object `key` at `version` under `dataKey` (AES-GCM, 256 bits) and `noncePrefix`. */
export function objectCipher(dataKey: CryptoKey, noncePrefix: Uint8Array<ArrayBuffer>, key: string, version: string): ObjectCipher {
  if (noncePrefix.length !== NONCE_PREFIX_BYTES) throw new TypeError(`a nonce prefix is ${NONCE_PREFIX_BYTES} bytes, not ${noncePrefix.length}`);
  const params = (index: number, last: boolean): AesGcmParams => ({
    name: "AES-GCM",
    iv: chunkNonce(noncePrefix, index, last),
    additionalData: chunkAssociatedData(key, version, index),
    tagLength: CHUNK_TAG_BYTES * 8,
  });
  return {
    noncePrefix,
    key,
    version,
    async encrypt(index, last, plaintext) {
      return new Uint8Array(await crypto.subtle.encrypt(params(index, last), dataKey, plaintext));
    },
    async decrypt(index, last, ciphertext) {
      try {
        return new Uint8Array(await crypto.subtle.decrypt(params(index, last), dataKey, ciphertext));
      } catch (error) {
        throw new EncryptionFailure("chunk_invalid", `chunk ${index} of ${version} fails its tag`, { chunk: index, cause: error });
      }
    },
  };
}

/** The nonce of chunk `index`: prefix, index big-endian, last-chunk flag. */
export function chunkNonce(noncePrefix: Uint8Array, index: number, last: boolean): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_ENCRYPTED_CHUNKS) throw new RangeError(`chunk index ${index} does not fit the nonce`);
  const nonce = new Uint8Array(NONCE_BYTES);
  nonce.set(noncePrefix);
  new DataView(nonce.buffer).setUint32(NONCE_PREFIX_BYTES, index);
  nonce[NONCE_BYTES - 1] = last ? 1 : 0;
  return nonce;
}

/** The associated data of chunk `index` of `key` at `version`, as `objectCipher` builds it. */
export function chunkAssociatedData(key: string, version: string, index: number): Uint8Array<ArrayBuffer> {
  return lengthPrefixed([textField(CHUNK_LABEL), textField(key), textField(version), u32Field(index)]);
}
