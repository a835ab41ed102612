import { lengthPrefixed, textField } from "./canonical.ts";
import { NONCE_PREFIX_BYTES, newNoncePrefix, objectCipher, type ObjectCipher } from "./chunk-aead.ts";
import { fromBase64, toBase64 } from "./encoding.ts";
import { EncryptionFailure } from "./failures.ts";
import type { KeyRing } from "./key-ring.ts";

/**
 * Envelope keys (docs/ENCRYPTION.md "Key hierarchy"): every object version gets its own random 256-bit data key,
 * stored only wrapped, with AES-256-GCM under the key-encryption key of a deployment key (key-ring.ts) and with the
 * associated data `lengthPrefixed("verigate wrapped data key v1", key id, object key, version)`. A wrapped key
 * therefore opens only for the object key and version it was made for: two manifests' wrapped keys swapped, or one
 * copied to another object, fail here, before any chunk is decrypted. Rotation re-wraps the same data key under
 * another deployment key (`rewrapDataKey`); the ciphertext in storage never changes.
 */

/** The construction recorded in a manifest: chunk-aead.ts over this envelope. A change gets a new name. */
export const ENCRYPTION_SCHEME = "aes256gcm-stream-v1";

/** An encrypted object's manifest field (stored JSON, snake_case like the rest of the manifest). */
export interface ManifestEncryption {
  scheme: typeof ENCRYPTION_SCHEME;
  /** The ENCRYPTION_KEYS key id whose key-encryption key wrapped the data key. */
  kid: string;
  /** Base64: the wrapping nonce (12 bytes), the encrypted data key (32) and its tag (16). */
  wrapped_key: string;
  /** Base64 of the 7-byte nonce prefix of every chunk (chunk-aead.ts). */
  nonce_prefix: string;
}

/** The object version a data key belongs to. */
export interface ObjectBinding {
  key: string;
  version: string;
}

const DATA_KEY_BYTES = 32;
const WRAP_NONCE_BYTES = 12;
const WRAP_TAG_BYTES = 16;
const WRAPPED_KEY_BYTES = WRAP_NONCE_BYTES + DATA_KEY_BYTES + WRAP_TAG_BYTES;
const WRAP_LABEL = "verigate wrapped data key v1";

/** A new data key for `binding`, wrapped under the ring's current key, and the cipher for the object's chunks. */
export async function newObjectKey(ring: KeyRing, binding: ObjectBinding): Promise<{ encryption: ManifestEncryption; cipher: ObjectCipher }> {
  const raw = crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
  const noncePrefix = newNoncePrefix();
  try {
    const encryption: ManifestEncryption = {
      scheme: ENCRYPTION_SCHEME,
      kid: ring.current,
      wrapped_key: toBase64(await wrap(ring, ring.current, raw, binding)),
      nonce_prefix: toBase64(noncePrefix),
    };
    return { encryption, cipher: objectCipher(await importDataKey(raw), noncePrefix, binding.key, binding.version) };
  } finally {
    raw.fill(0);
  }
}

/**
 * The cipher of an encrypted object's chunks. Throws `EncryptionFailure`: `key_unavailable` when the ring lacks the
 * key id, `wrapped_key_invalid` when the wrapped key does not open for `binding`, `manifest_malformed` for a field
 * of the wrong shape. The binding must come from the signature-checked manifest and the request, never storage.
 */
export async function openObjectKey(ring: KeyRing, encryption: ManifestEncryption, binding: ObjectBinding): Promise<ObjectCipher> {
  const noncePrefix = decodeField(encryption.nonce_prefix, NONCE_PREFIX_BYTES, "nonce_prefix");
  const raw = await unwrap(ring, encryption, binding);
  try {
    return objectCipher(await importDataKey(raw), noncePrefix, binding.key, binding.version);
  } finally {
    raw.fill(0);
  }
}

/** `encryption` with its data key wrapped under `toKid` instead (rotation); the data key and nonce prefix stay. */
export async function rewrapDataKey(
  ring: KeyRing,
  encryption: ManifestEncryption,
  binding: ObjectBinding,
  toKid: string = ring.current,
): Promise<ManifestEncryption> {
  const raw = await unwrap(ring, encryption, binding);
  try {
    return { ...encryption, kid: toKid, wrapped_key: toBase64(await wrap(ring, toKid, raw, binding)) };
  } finally {
    raw.fill(0);
  }
}

/** The associated data binding a wrapped key to its deployment key id, object key and version. */
export function wrapAssociatedData(kid: string, binding: ObjectBinding): Uint8Array<ArrayBuffer> {
  return lengthPrefixed([textField(WRAP_LABEL), textField(kid), textField(binding.key), textField(binding.version)]);
}

async function wrap(ring: KeyRing, kid: string, raw: Uint8Array<ArrayBuffer>, binding: ObjectBinding): Promise<Uint8Array<ArrayBuffer>> {
  const kek = await ring.wrappingKey(kid);
  const nonce = crypto.getRandomValues(new Uint8Array(WRAP_NONCE_BYTES));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: wrapAssociatedData(kid, binding) }, kek, raw));
  const out = new Uint8Array(WRAPPED_KEY_BYTES);
  out.set(nonce);
  out.set(sealed, WRAP_NONCE_BYTES);
  return out;
}

async function unwrap(ring: KeyRing, encryption: ManifestEncryption, binding: ObjectBinding): Promise<Uint8Array<ArrayBuffer>> {
  if (encryption.scheme !== ENCRYPTION_SCHEME)
    throw new EncryptionFailure("manifest_malformed", `unknown encryption scheme ${JSON.stringify(encryption.scheme)}`);
  const wrapped = decodeField(encryption.wrapped_key, WRAPPED_KEY_BYTES, "wrapped_key");
  const kek = await ring.wrappingKey(encryption.kid);
  try {
    const params = { name: "AES-GCM", iv: wrapped.subarray(0, WRAP_NONCE_BYTES), additionalData: wrapAssociatedData(encryption.kid, binding) };
    return new Uint8Array(await crypto.subtle.decrypt(params, kek, wrapped.subarray(WRAP_NONCE_BYTES)));
  } catch (error) {
    throw new EncryptionFailure("wrapped_key_invalid", `the data key of ${binding.version} does not open under ${encryption.kid}`, { cause: error });
  }
}

function importDataKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

function decodeField(text: unknown, bytes: number, name: string): Uint8Array<ArrayBuffer> {
  let decoded: Uint8Array<ArrayBuffer> | undefined;
  try {
    if (typeof text === "string") decoded = fromBase64(text);
  } catch {
    decoded = undefined;
  }
  if (decoded?.length !== bytes) throw new EncryptionFailure("manifest_malformed", `encryption.${name} is not base64 of ${bytes} bytes`);
  return decoded;
}
