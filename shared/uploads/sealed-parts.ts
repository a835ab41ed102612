import type { ObjectCipher } from "../crypto/chunk-aead.ts";
import { CHUNK_TAG_BYTES, encryptedChunkCount } from "../crypto/chunk-layout.ts";
import { timingSafeEqual, toHex } from "../crypto/encoding.ts";
import { openObjectKey } from "../crypto/envelope.ts";
import { EncryptionFailure, encryptionFailureCode } from "../crypto/failures.ts";
import { SHARE, VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import { streamHashed } from "../objects/hashed-stream.ts";
import { updateSession } from "./access.ts";
import type { UploadDeps } from "./deps.ts";
import type { PartUpload } from "./parts.ts";
import type { PartClaim, SessionPart, UploadSession } from "./store.ts";

/**
 * Parts of an encrypted session (docs/ENCRYPTION.md "Nonce uniqueness on every write path"). The session holds one
 * data key for the version it commits, and chunk i of the object is sealed with nonce i whichever attempt of its part
 * sends it, so a part must never be sealed over two different plaintexts. Hence: the part's signed SHA-256 is claimed
 * (`claimPart`, atomic in every store, with no ETag) before its first byte is sealed, so of the attempts of that part,
 * concurrent ones too, only those declaring the first claimed digest go on (else 409 `already_exists`), and an attempt
 * that fails once sealing started fails the whole session (its data key is burned; the client starts a new session),
 * since bytes other than the declared ones may have been sealed.
 */
export async function uploadSealedPart(deps: UploadDeps, session: UploadSession, part: number, size: number, input: PartUpload): Promise<SessionPart> {
  const declared = toHex(input.sha256);
  requireClaim(await deps.uploads.claimPart(session.id, { part, size, sha256: declared, etag: "" }), part);
  const cipher = await sessionCipher(deps, session);
  const firstChunk = ((part - 1) * session.part_size) / session.chunk_size;
  const endsObject = part === session.part_count;
  const sealedLength = size + CHUNK_TAG_BYTES * Math.ceil(size / session.chunk_size);
  try {
    const { result, sha256 } = await streamHashed(
      deps.streams,
      { body: input.body, length: size, chunkSize: session.chunk_size, sealing: { cipher, firstChunk, endsObject } },
      (sealed) => deps.storage.multipart.uploadPart(session.blob, session.storage_upload_id, part, sealed, { length: sealedLength }),
    );
    if (!timingSafeEqual(sha256, input.sha256)) throw new VerigateError("digest_mismatch", `part ${part}: SHA-256 differs from Content-Digest`);
    const record = { part, size, sha256: declared, etag: result.etag };
    // A claim too, so no write gives a claimed part another digest. Only a claim that was not atomic could find
    // another digest here, and then two bodies were sealed under this part's nonces: the catch burns the key.
    requireClaim(await deps.uploads.claimPart(session.id, record), part);
    return record;
  } catch (error) {
    await burnSession(deps, session, part, error);
    throw error;
  }
}

/** Refuses an attempt whose part another digest holds (409), or whose session is gone. */
function requireClaim(claim: PartClaim, part: number): void {
  if (claim === "conflict") throw new VerigateError("already_exists", `part ${part} was already sent with another digest`, SHARE);
  if (claim === "missing") throw new VerigateError("not_found");
}

/** The cipher of an encrypted session's chunks: its data key unwrapped for the session's object key and version. */
export async function sessionCipher(deps: Pick<UploadDeps, "config">, session: UploadSession): Promise<ObjectCipher> {
  try {
    const ring = deps.config.encryption.ring;
    if (!ring) throw new EncryptionFailure("key_unavailable", "the session is encrypted and ENCRYPTION_KEYS is not set");
    return await openObjectKey(ring, session.encryption!, { key: session.key, version: session.version });
  } catch (error) {
    if (!(error instanceof EncryptionFailure)) throw error;
    throw new VerigateError(encryptionFailureCode(error.reason), error.message, { cause: error });
  }
}

/** The stored size of an encrypted session's assembled blob. */
export function sealedBlobSize(session: Pick<UploadSession, "size" | "chunk_size">): number {
  return session.size + CHUNK_TAG_BYTES * encryptedChunkCount(session.size, session.chunk_size);
}

/** Fails the session after a part attempt whose sealing started and did not finish verified; best effort (the sweep removes the rest). */
async function burnSession(deps: UploadDeps, session: UploadSession, part: number, error: unknown): Promise<void> {
  const detail = `part ${part} failed after it was encrypted; start a new session`;
  deps.log.log("warn", "upload_session_burned", { upload_id: session.id, part, ...describeError(error) });
  const current = await deps.uploads.get(session.id);
  if (current?.state === "open") await updateSession(deps.uploads, current, { state: "failed", failure: { code: "upload_closed", detail } });
}
