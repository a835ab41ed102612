import { lengthPrefixed, textField, u32Field, u64Field } from "../crypto/canonical.ts";
import { timingSafeEqual, toBase64Url, utf8 } from "../crypto/encoding.ts";
import type { ManifestEncryption } from "../crypto/envelope.ts";
import { EncryptionFailure } from "../crypto/failures.ts";
import type { KeyRing } from "../crypto/key-ring.ts";
import type { Logger } from "../log.ts";
import type { Manifest } from "./manifest.ts";

/**
 * Signed manifests (docs/ENCRYPTION.md "Signed manifests"): an HMAC-SHA-256, under the manifest signing key derived
 * from a deployment key (key-ring.ts), over the canonical encoding of every field of the manifest. Metadata is
 * untrusted like storage: a writer without the deployment key can neither alter a signed manifest, nor move one to
 * another object key or pinned version, nor graft one manifest's wrapped key or digests onto another.
 *
 * What `verifyManifest` checks: the fields have their types and there is no field the signature would not cover, the
 * MAC verifies under the key id it names, and the manifest is for the object key (and version, when pinned) the
 * request asked for. What the caller must still do: call it before any other use of the manifest, and take the
 * binding passed to envelope.ts from the checked manifest. What no MAC can stop: a metadata writer putting back an
 * older, genuinely signed version of the same key as current (rollback; docs/ENCRYPTION.md "Limits").
 */

/** A manifest's signature field: the deployment key id it was made with, that key's check value, and the MAC. */
export interface ManifestSignature {
  kid: string;
  /** `KeyRing.keyCheck(kid)` when signed: a mismatch means ENCRYPTION_KEYS holds other bytes under this id. */
  key_check: string;
  /** HMAC-SHA-256, unpadded base64url. */
  mac: string;
}

/**
 * The manifest as stored once encryption at rest exists: the existing manifest plus the encrypted object's envelope and
 * the signature. Both are absent from a manifest written before keys were configured.
 */
export interface StoredManifest extends Manifest {
  encryption?: ManifestEncryption;
  signature?: ManifestSignature;
}

/** Bumped with any change to the encoding below, so an old signature fails closed instead of meaning something else. */
const SIGNING_LABEL = "verigate manifest v1";

/** An HMAC-SHA-256 in unpadded base64url: 43 characters. */
const MAC_TEXT = /^[A-Za-z0-9_-]{43}$/;

/**
 * The bytes the MAC covers: `lengthPrefixed` over the label, then each present field as its name followed by its
 * value, in this fixed order. Text is its exact UTF-8 (no case folding or trimming: another spelling is another
 * manifest), integers are 8 bytes big-endian, the digest list is its count (4 bytes) then each digest. Absent
 * optional fields write nothing, not even their name; since every value follows its own name, no two manifests
 * encode alike. The signing key id and check value are covered too, so a signature cannot be relabelled to another key.
 */
export function manifestSigningInput(manifest: Omit<StoredManifest, "signature">, signer: Omit<ManifestSignature, "mac">): Uint8Array<ArrayBuffer> {
  const fields: Uint8Array[] = [textField(SIGNING_LABEL)];
  const text = (name: string, value: string) => fields.push(textField(name), textField(value));
  const integer = (name: string, value: number) => fields.push(textField(name), u64Field(value));
  text("signature.kid", signer.kid);
  text("signature.key_check", signer.key_check);
  text("key", manifest.key);
  text("version", manifest.version);
  integer("size", manifest.size);
  text("sha256", manifest.sha256);
  integer("chunk_size", manifest.chunk_size);
  if (manifest.chunks !== undefined) {
    fields.push(textField("chunks"), u32Field(manifest.chunks.length), ...manifest.chunks.map(textField));
  }
  if (manifest.tree !== undefined) {
    text("tree.root", manifest.tree.root);
    integer("tree.fanout", manifest.tree.fanout);
    text("tree.pages", manifest.tree.pages);
  }
  text("content_type", manifest.content_type);
  text("created_at", manifest.created_at);
  text("keyid", manifest.keyid);
  text("blob", manifest.blob);
  if (manifest.encryption !== undefined) {
    text("encryption.scheme", manifest.encryption.scheme);
    text("encryption.kid", manifest.encryption.kid);
    text("encryption.wrapped_key", manifest.encryption.wrapped_key);
    text("encryption.nonce_prefix", manifest.encryption.nonce_prefix);
  }
  return lengthPrefixed(fields);
}

/**
 * `manifest` signed under the ring's current key; any signature it had is replaced (rotation re-signs this way). A
 * manifest with a field the encoding does not cover is refused (`manifest_malformed`) rather than signed without it.
 */
export async function signManifest(ring: KeyRing, manifest: StoredManifest): Promise<StoredManifest> {
  checkShape(manifest);
  const { signature: _replaced, ...unsigned } = manifest;
  const signer = { kid: ring.current, key_check: await ring.keyCheck(ring.current) };
  return { ...unsigned, signature: { ...signer, mac: await macOf(ring, unsigned, signer) } };
}

/** What the request asked for: a manifest for anything else is refused even when its own signature holds. */
export interface ManifestExpectation {
  key: string;
  /** Set when the read is pinned to a version (`ver:` records, gateway links, plan windows). */
  version?: string | undefined;
}

export interface SignaturePolicy {
  /** The deployment's keys; null when ENCRYPTION_KEYS is unset, and then no manifest can be signed or checked. */
  ring: KeyRing | null;
  /** The operator's explicit opt-in to serving plain manifests written before keys were configured. */
  readUnsignedLegacy: boolean;
  log: Logger;
}

/**
 * `manifest` once it is safe to use; throws `EncryptionFailure` otherwise (mapped by failures.ts): `manifest_malformed`,
 * `manifest_unsigned`, `manifest_signature_invalid`, or `key_unavailable` when the manifest names a key id the
 * ring lacks or whose check value differs (the operator changed a key's bytes), or is signed or encrypted while no
 * keys are configured. An unsigned manifest is served only when no keys are configured (nothing could have signed
 * it) or behind `readUnsignedLegacy`, and then each read is logged.
 */
export async function verifyManifest(manifest: StoredManifest, expected: ManifestExpectation, policy: SignaturePolicy): Promise<StoredManifest> {
  checkShape(manifest);
  if (manifest.key !== expected.key || (expected.version !== undefined && manifest.version !== expected.version)) {
    throw new EncryptionFailure("manifest_signature_invalid", `the manifest is for ${manifest.version}, not the object or version asked for`);
  }
  const { signature, ...unsigned } = manifest;
  if (signature === undefined) {
    if (manifest.encryption !== undefined) throw new EncryptionFailure("manifest_unsigned", `encrypted manifest ${manifest.version} carries no signature`);
    if (policy.ring === null) return manifest;
    if (!policy.readUnsignedLegacy) throw new EncryptionFailure("manifest_unsigned", `manifest ${manifest.version} carries no signature`);
    policy.log.log("warn", "unsigned_manifest_read", { key: manifest.key, version: manifest.version });
    return manifest;
  }
  if (policy.ring === null) throw new EncryptionFailure("key_unavailable", `manifest ${manifest.version} is signed but ENCRYPTION_KEYS is unset`);
  // Before the MAC, so that a key id whose bytes were changed in ENCRYPTION_KEYS reads as the operator's to fix.
  if ((await policy.ring.keyCheck(signature.kid)) !== signature.key_check) {
    throw new EncryptionFailure(
      "key_unavailable",
      `ENCRYPTION_KEYS holds another key under ${JSON.stringify(signature.kid)} than the one that signed ${manifest.version}`,
    );
  }
  const actual = await macOf(policy.ring, unsigned, signature);
  if (!timingSafeEqual(utf8(actual), utf8(signature.mac))) {
    throw new EncryptionFailure("manifest_signature_invalid", `manifest ${manifest.version} fails its signature under ${signature.kid}`);
  }
  return manifest;
}

async function macOf(ring: KeyRing, manifest: Omit<StoredManifest, "signature">, signer: Omit<ManifestSignature, "mac">): Promise<string> {
  const key = await ring.signingKey(signer.kid);
  return toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, manifestSigningInput(manifest, signer))));
}

const TOP_FIELDS = new Set([
  "key",
  "version",
  "size",
  "sha256",
  "chunk_size",
  "chunks",
  "tree",
  "content_type",
  "created_at",
  "keyid",
  "blob",
  "encryption",
  "signature",
]);
const TREE_FIELDS = ["root", "fanout", "pages"];
const ENCRYPTION_FIELDS = ["scheme", "kid", "wrapped_key", "nonce_prefix"];
const SIGNATURE_FIELDS = ["kid", "key_check", "mac"];

/**
 * Refuses a manifest with a field the encoding does not cover (a field added later must be added to the encoding,
 * under a new label, before it can be trusted) or a field of the wrong type, which the encoding could not represent.
 */
function checkShape(manifest: StoredManifest): void {
  const malformed = (what: string) => new EncryptionFailure("manifest_malformed", what);
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) throw malformed("not an object");
  const record = manifest as unknown as Record<string, unknown>;
  for (const name of Object.keys(record)) if (!TOP_FIELDS.has(name)) throw malformed(`field ${JSON.stringify(name)} is not covered by the signature`);
  for (const name of ["key", "version", "sha256", "content_type", "created_at", "keyid", "blob"]) {
    if (typeof record[name] !== "string") throw malformed(`${name} is not text`);
  }
  if (!Number.isSafeInteger(manifest.size) || manifest.size < 0) throw malformed("size");
  if (!Number.isSafeInteger(manifest.chunk_size) || manifest.chunk_size <= 0) throw malformed("chunk_size");
  if (manifest.chunks !== undefined && !(Array.isArray(manifest.chunks) && manifest.chunks.every((digest) => typeof digest === "string"))) {
    throw malformed("chunks");
  }
  if (manifest.tree !== undefined) {
    exactFields(manifest.tree, TREE_FIELDS, "tree", malformed);
    if (
      typeof manifest.tree.root !== "string" ||
      typeof manifest.tree.pages !== "string" ||
      !Number.isSafeInteger(manifest.tree.fanout) ||
      manifest.tree.fanout < 0
    ) {
      throw malformed("tree");
    }
  }
  if (manifest.encryption !== undefined) exactFields(manifest.encryption, ENCRYPTION_FIELDS, "encryption", malformed, true);
  if (manifest.signature !== undefined) {
    exactFields(manifest.signature, SIGNATURE_FIELDS, "signature", malformed, true);
    if (!MAC_TEXT.test(manifest.signature.mac)) throw malformed("signature.mac is not an HMAC-SHA-256 in base64url");
  }
}

/** `value` is an object with exactly `names` (each text when `text`). */
function exactFields(value: unknown, names: string[], where: string, malformed: (what: string) => EncryptionFailure, text = false): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw malformed(`${where} is not an object`);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length !== names.length || !names.every((name) => name in record)) throw malformed(`${where} has other fields than ${names.join(", ")}`);
  if (text && !names.every((name) => typeof record[name] === "string")) throw malformed(`${where} has a field that is not text`);
}
