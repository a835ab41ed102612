import type { ErrorCode } from "../errors/index.ts";

/**
 * Why encrypted or signed data was refused (docs/ENCRYPTION.md "Failures"). Every one is raised before a byte it
 * concerns could reach a client; `encryptionFailureCode` is the one place they become wire codes.
 */
export type EncryptionFailureReason =
  /** The manifest names a deployment key id that ENCRYPTION_KEYS does not hold, or holds other bytes under (its check value differs), or no keys are configured at all. */
  | "key_unavailable"
  /** The wrapped data key does not open under its key id for this object key and version: swapped or altered. */
  | "wrapped_key_invalid"
  /** A ciphertext chunk fails its tag: altered, truncated, reordered, or from another object, version or position. */
  | "chunk_invalid"
  /** The manifest carries no signature while signatures are required. */
  | "manifest_unsigned"
  /** The manifest's MAC does not verify, or it names another key or version than the one asked for. */
  | "manifest_signature_invalid"
  /** The manifest has a field the signature does not cover, or a field of the wrong type. */
  | "manifest_malformed";

export class EncryptionFailure extends Error {
  override readonly name = "EncryptionFailure";
  readonly reason: EncryptionFailureReason;
  /** The chunk that failed, for `chunk_invalid`. */
  readonly chunk: number | undefined;

  constructor(reason: EncryptionFailureReason, detail: string, options?: { chunk?: number; cause?: unknown }) {
    super(`${reason}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.chunk = options?.chunk;
  }
}

/**
 * The wire code of a failure: a key the deployment lacks is the operator's to fix (503 `misconfigured`, never bytes
 * decrypted under a guess); everything else is metadata or storage that cannot be trusted (502 `integrity_failure`).
 */
export function encryptionFailureCode(reason: EncryptionFailureReason): ErrorCode {
  switch (reason) {
    case "key_unavailable":
      return "misconfigured";
    case "wrapped_key_invalid":
    case "chunk_invalid":
    case "manifest_unsigned":
    case "manifest_signature_invalid":
    case "manifest_malformed":
      return "integrity_failure";
  }
}
