import type { ObjectCipher } from "../crypto/chunk-aead.ts";
import { CHUNK_TAG_BYTES, isLastChunk, plaintextChunkLength } from "../crypto/chunk-layout.ts";
import { toHex } from "../crypto/encoding.ts";
import { type EncryptionFailure, encryptionFailureCode } from "../crypto/failures.ts";
import { VerigateError } from "../errors/index.ts";
import type { ByteRange } from "../storage/index.ts";
import { type ChunkDigests, TreePageFailure } from "./chunk-digests.ts";
import type { ChunkReader } from "./chunk-reader.ts";
import type { ObjectDeps } from "./deps.ts";
import type { Manifest } from "./manifest.ts";
import type { StreamRuntime } from "../streams/index.ts";

/** How an encrypted object's chunks are opened, and how a chunk whose tag fails becomes the error thrown (logged). */
export interface EncryptedChunks {
  cipher: ObjectCipher;
  refuse(error: unknown): unknown;
}

export interface VerifiedChunks {
  /**
   * Chunk `index`, verified against the manifest and cut to the span, as the pieces to write in order (one piece
   * unless the runtime hashes storage's own pieces: `StreamRuntime.chunkHasher`); chunks must be read in order.
   * `reuse` is a buffer of an earlier chunk that nothing reads any more, to read this one into (see `ChunkReader.read`).
   */
  read(index: number, reuse?: ArrayBuffer): Promise<Uint8Array<ArrayBuffer>[]>;
  cancel(reason?: unknown): void;
}

/**
 * The chunk verifier: reads a stored blob chunk by chunk and lets a chunk through only when it has the manifest's
 * length and SHA-256 for it (PROTOCOL "Trust model"). Storage is untrusted; this is where that is enforced, and a
 * mismatch is reported through `integrityFailure` (logged) before it is thrown. The expected digest comes from
 * `digests` (the manifest's list, or its tree in storage, checked page by page) before any byte of the chunk is read,
 * so a tree page that fails its check stops the read ahead of the chunk it covers.
 *
 * A chunk is hashed the way the runtime wants it read (`StreamRuntime`): into one buffer and hashed by `chunkSha256`
 * (workerd's BYOB `readAtLeast` fills it without a copy), or, with `chunkHasher`, as the storage body's own pieces,
 * hashed one by one and kept uncopied until the whole chunk matched as they arrive (Node, whose reader would otherwise copy every
 * piece into the chunk buffer). Either way no piece leaves here before its chunk's length and digest matched.
 *
 * An encrypted object's digests cover the stored ciphertext chunks (docs/ENCRYPTION.md "Chunk digests cover the
 * ciphertext"): a chunk is read into one buffer and hashed, then opened with `cipher` (its tag checked, the last-chunk
 * flag taken from the manifest's size, never from the blob), and only its plaintext is cut to the span. Its ciphertext
 * buffer is read into again for the next chunk, since decrypting copies; `reuse` is then ignored, because a plaintext
 * buffer is a tag short of the next chunk.
 */
export function verifiedChunks(
  reader: ChunkReader,
  streams: Pick<StreamRuntime, "chunkSha256" | "chunkHasher">,
  manifest: Manifest,
  digests: ChunkDigests,
  span: ByteRange,
  integrityFailure: IntegrityFailure,
  encrypted?: EncryptedChunks,
): VerifiedChunks {
  const cipher = encrypted?.cipher;
  // An encrypted chunk is opened as one buffer, so it is read into one.
  const chunkHasher = cipher ? undefined : streams.chunkHasher;
  let sealedBuffer: ArrayBuffer | undefined;
  return {
    async read(index, reuse) {
      const start = index * manifest.chunk_size;
      const plainLength = plaintextChunkLength(index, manifest.size, manifest.chunk_size);
      const expectedLength = cipher ? plainLength + CHUNK_TAG_BYTES : plainLength;
      const expected = await expectedDigest(digests, index, integrityFailure);
      const pieceHash = chunkHasher?.();
      let pieces: Uint8Array<ArrayBuffer>[];
      try {
        pieces = pieceHash
          ? await reader.pieces(expectedLength, (piece) => pieceHash.update(piece))
          : [await reader.read(expectedLength, cipher ? sealedBuffer : reuse)];
      } catch (error) {
        throw new VerigateError("internal", `storage read of chunk ${index} failed`, { cause: error });
      }
      const actual = toHex(pieceHash ? pieceHash.digest() : await streams.chunkSha256(pieces[0]!));
      const length = totalLength(pieces);
      if (length !== expectedLength || actual !== expected) {
        const reason = length === expectedLength ? "digest_mismatch" : "short_chunk";
        throw integrityFailure({ chunk: index, reason, expected, actual });
      }
      if (cipher) {
        let bytes = pieces[0]!;
        sealedBuffer = bytes.buffer;
        try {
          bytes = await cipher.decrypt(index, isLastChunk(index, manifest.size, manifest.chunk_size), bytes);
        } catch (error) {
          throw encrypted!.refuse(error);
        }
        pieces = [bytes];
      }
      const from = Math.max(span.offset, start) - start;
      // The chunk is whole here: `plainLength` bytes of plaintext, whether it was read plain or opened.
      const to = Math.min(span.offset + span.length, start + plainLength) - start;
      return cutPieces(pieces, from, to);
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => {});
    },
  };
}

function totalLength(pieces: Uint8Array<ArrayBuffer>[]): number {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  return length;
}

/** Bytes `from` to `to` of the chunk `pieces` make up, as views into them; a one-piece chunk stays one piece. */
function cutPieces(pieces: Uint8Array<ArrayBuffer>[], from: number, to: number): Uint8Array<ArrayBuffer>[] {
  if (pieces.length === 1) return [pieces[0]!.subarray(from, to)];
  const cut: Uint8Array<ArrayBuffer>[] = [];
  let at = 0;
  for (const piece of pieces) {
    const end = at + piece.length;
    if (end > from && at < to) cut.push(piece.subarray(Math.max(from - at, 0), Math.min(to, end) - at));
    at = end;
  }
  return cut;
}

/** Chunk `index`'s digest; a tree page failing its check is reported through `integrityFailure` and thrown. */
export async function expectedDigest(digests: ChunkDigests, index: number, integrityFailure: IntegrityFailure): Promise<string> {
  try {
    return await digests.digest(index);
  } catch (error) {
    if (!(error instanceof TreePageFailure)) throw error;
    throw integrityFailure({
      chunk: index,
      reason: error.reason,
      tree_page: error.page,
      ...(error.expected === undefined ? {} : { expected: error.expected, actual: error.actual }),
      ...(error.expectedSize === undefined ? {} : { expected_size: error.expectedSize, actual_size: error.actualSize }),
    });
  }
}

export interface IntegrityFields {
  chunk: number | null;
  reason: "blob_missing" | "size_mismatch" | "digest_mismatch" | "short_chunk" | "tree_page_missing" | "tree_page_mismatch";
  /** The digest tree page that failed its check (manifest v2). */
  tree_page?: string;
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

/**
 * The `VerigateError` of an `EncryptionFailure` concerning `manifest`, logged first: `integrity_failure` (502) with
 * its reason for anything tampered, `encryption_key_unavailable` (503 `misconfigured`) when the deployment lacks the
 * key. Never with key material: the failure's message names key ids only.
 */
export function encryptionFailureError(
  deps: Pick<ObjectDeps, "log">,
  manifest: Partial<Manifest>,
  requestId: string,
  failure: EncryptionFailure,
): VerigateError {
  const code = encryptionFailureCode(failure.reason);
  const fields = {
    key: manifest.key,
    version: manifest.version,
    blob: manifest.blob,
    request_id: requestId,
    reason: failure.reason,
    chunk: failure.chunk ?? null,
  };
  deps.log.log("error", code === "misconfigured" ? "encryption_key_unavailable" : "integrity_failure", { ...fields, detail: failure.message });
  return new VerigateError(code, failure.message, { cause: failure });
}
