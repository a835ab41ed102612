import { toHex } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import type { ByteRange } from "../storage/index.ts";
import type { ChunkReader } from "./chunk-reader.ts";
import type { ObjectDeps } from "./deps.ts";
import type { Manifest } from "./manifest.ts";

export interface VerifiedChunks {
  /**
   * Chunk `index`, verified against the manifest and cut to the span; chunks must be read in order. `reuse` is a
   * buffer of an earlier chunk that nothing reads any more, to read this one into (see `ChunkReader.read`).
   */
  read(index: number, reuse?: ArrayBuffer): Promise<Uint8Array<ArrayBuffer>>;
  cancel(reason?: unknown): void;
}

/**
 * The chunk verifier: reads a stored blob chunk by chunk and lets a chunk through only when it has the manifest's
 * length and SHA-256 for it (PROTOCOL "Trust model"). Storage is untrusted; this is where that is enforced, and a
 * mismatch is reported through `integrityFailure` (logged) before it is thrown.
 */
export function verifiedChunks(reader: ChunkReader, manifest: Manifest, span: ByteRange, integrityFailure: IntegrityFailure): VerifiedChunks {
  return {
    async read(index, reuse) {
      const start = index * manifest.chunk_size;
      const expectedLength = Math.min(manifest.chunk_size, manifest.size - start);
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await reader.read(expectedLength, reuse);
      } catch (error) {
        throw new VerigateError("internal", `storage read of chunk ${index} failed`, { cause: error });
      }
      const expected = manifest.chunks?.[index];
      const actual = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
      if (bytes.length !== expectedLength || actual !== expected) {
        const reason = bytes.length === expectedLength ? "digest_mismatch" : "short_chunk";
        throw integrityFailure({ chunk: index, reason, expected, actual });
      }
      const from = Math.max(span.offset, start) - start;
      const to = Math.min(span.offset + span.length, start + bytes.length) - start;
      return bytes.subarray(from, to);
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => {});
    },
  };
}

export interface IntegrityFields {
  chunk: number | null;
  reason: "blob_missing" | "size_mismatch" | "digest_mismatch" | "short_chunk";
  expected?: string | undefined;
  actual?: string;
  expected_size?: number;
  actual_size?: number;
}

/** Logs an `integrity_failure` event and returns the error to throw. */
export type IntegrityFailure = (fields: IntegrityFields) => VerigateError;

export function integrityLogger(deps: Pick<ObjectDeps, "log">, manifest: Manifest, requestId: string): IntegrityFailure {
  return (fields) => {
    deps.log.log("error", "integrity_failure", {
      key: manifest.key,
      version: manifest.version,
      blob: manifest.blob,
      request_id: requestId,
      ...fields,
    });
    return new VerigateError("integrity_failure", `${fields.reason} at chunk ${fields.chunk ?? "-"} of ${manifest.blob}`);
  };
}
