import { KeyRingError, type KeyRing, type KeyRingProblem, parseKeyRing } from "../crypto/key-ring.ts";
import type { ConfigProblem } from "./problems.ts";

/**
 * Encryption at rest (docs/ENCRYPTION.md): `ENCRYPTION_KEYS` turns on both the encryption of new objects and the
 * signing of every manifest written, and makes every manifest read be verified. `UNSIGNED_MANIFESTS=read` is the
 * operator's explicit, logged opt-in to serving manifests written before the keys were set, until a rewrap pass has
 * signed them.
 */
export interface EncryptionSettings {
  /** Null when ENCRYPTION_KEYS is unset: nothing is signed or encrypted, and manifests read as before. */
  ring: KeyRing | null;
  /** `UNSIGNED_MANIFESTS=read`: serve (and log) unsigned legacy manifests while keys are set. */
  readUnsignedLegacy: boolean;
}

/** The problem code of each way ENCRYPTION_KEYS can be malformed; codes never carry the value. */
const KEY_RING_PROBLEMS: Record<KeyRingProblem, ConfigProblem> = {
  empty: "encryption_keys_empty",
  entry_malformed: "encryption_keys_entry_malformed",
  key_id_invalid: "encryption_keys_key_id_invalid",
  key_id_duplicate: "encryption_keys_key_id_duplicate",
  key_not_base64: "encryption_keys_key_not_base64",
  key_length: "encryption_keys_key_length",
};

export function parseEncryption(keys: string | undefined, unsignedManifests: string | undefined, problems: ConfigProblem[]): EncryptionSettings {
  if (unsignedManifests !== undefined && unsignedManifests !== "read" && unsignedManifests !== "refuse") problems.push("invalid_unsigned_manifests");
  return { ring: keys === undefined ? null : keyRing(keys, problems), readUnsignedLegacy: unsignedManifests === "read" };
}

function keyRing(keys: string, problems: ConfigProblem[]): KeyRing | null {
  try {
    return parseKeyRing(keys);
  } catch (error) {
    if (!(error instanceof KeyRingError)) throw error;
    problems.push(KEY_RING_PROBLEMS[error.problem]);
    return null;
  }
}
