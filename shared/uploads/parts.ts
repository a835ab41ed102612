import { timingSafeEqual, toHex } from "../crypto/encoding.ts";
import { SHARE, VerigateError } from "../errors/index.ts";
import { streamHashed } from "../objects/hashed-stream.ts";
import { ENCRYPTED_AT_REST } from "../presign/storage-get.ts";
import type { UploadDeps } from "./deps.ts";
import { partLength } from "./layout.ts";
import { uploadSealedPart } from "./sealed-parts.ts";
import type { SessionPart, UploadSession } from "./store.ts";

export interface PartUpload {
  /** Null for an empty body. */
  body: ReadableStream<Uint8Array> | null;
  /** The declared Content-Length. */
  length: number;
  /** The signed Content-Digest's SHA-256. */
  sha256: Uint8Array;
}

/**
 * Streams part `part` through the gateway into the store's multipart upload, hashed while it streams (the PUT
 * streaming code), and records it once its SHA-256 matched the signed one. A refused part records nothing: status
 * keeps showing whatever was recorded before, and complete verifies every byte anyway. Sending a part again replaces it.
 * An encrypted session's parts are sealed chunk by chunk on the way (sealed-parts.ts).
 */
export async function uploadPart(deps: UploadDeps, session: UploadSession, part: number, input: PartUpload): Promise<SessionPart> {
  requireOpen(session);
  const size = partLength(session, part);
  if (input.length !== size) throw new VerigateError("bad_request", `part ${part} is ${size} bytes; Content-Length says ${input.length}`, SHARE);
  if (session.encryption) return uploadSealedPart(deps, session, part, size, input);
  const { result: stored, sha256 } = await streamHashed(deps.streams, { body: input.body, length: size, chunkSize: session.chunk_size }, (hashed) =>
    deps.storage.multipart.uploadPart(session.blob, session.storage_upload_id, part, hashed, { length: size, sha256: input.sha256 }),
  );
  if (!timingSafeEqual(sha256, input.sha256)) throw new VerigateError("digest_mismatch", `part ${part}: SHA-256 differs from Content-Digest`);
  return recordPart(deps, session, { part, size, sha256: toHex(sha256), etag: stored.etag });
}

/**
 * Records a part the client sent straight to storage through a presigned URL. Nothing here is trusted: the store
 * checked the part against the signed checksum header, and complete hashes every assembled byte again. An encrypted
 * session takes no direct part: the client cannot seal it.
 */
export async function registerPart(deps: UploadDeps, session: UploadSession, part: number, direct: { sha256: string; etag: string }): Promise<SessionPart> {
  requireOpen(session);
  if (session.encryption) throw new VerigateError("presign_storage_disabled", ENCRYPTED_AT_REST, SHARE);
  return recordPart(deps, session, { part, size: partLength(session, part), ...direct });
}

/** Parts are taken (and presigned) only until complete starts: `upload_closed` after. */
export function requireOpen(session: UploadSession): void {
  if (session.state !== "open") throw new VerigateError("upload_closed", `the session is ${session.state}; it takes parts only while open`, SHARE);
}

async function recordPart(deps: UploadDeps, session: UploadSession, record: SessionPart): Promise<SessionPart> {
  if (!(await deps.uploads.putPart(session.id, record))) throw new VerigateError("not_found");
  return record;
}
