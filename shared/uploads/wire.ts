import type { SessionPart, UploadSession } from "./store.ts";

/** The 201 body of `POST /v1/uploads` (PROTOCOL "Upload sessions"). */
export interface CreateUploadBody {
  upload_id: string;
  key: string;
  size: number;
  sha256: string;
  chunk_size: number;
  part_size: number;
  part_count: number;
  expires_at: string;
  direct_parts: boolean;
}

export interface PartBody {
  part: number;
  size: number;
  sha256: string;
}

/** `GET /v1/uploads/{id}`: what a client resuming needs; `version` once completed, `failure` once failed. */
export interface UploadStatusBody extends CreateUploadBody {
  state: UploadSession["state"];
  parts: PartBody[];
  verified_bytes: number;
  version?: string;
  failure?: { code: string; detail: string };
}

/** The 202 body of a complete that has not committed yet. */
export interface CompletePendingBody {
  state: UploadSession["state"];
  verified_bytes: number;
  size: number;
}

export function createUploadBody(session: UploadSession, directParts: boolean): CreateUploadBody {
  const { id, key, size, sha256, chunk_size, part_size, part_count, expires_at } = session;
  return { upload_id: id, key, size, sha256, chunk_size, part_size, part_count, expires_at, direct_parts: directParts };
}

export function partBody({ part, size, sha256 }: SessionPart): PartBody {
  return { part, size, sha256 };
}

export function uploadStatusBody(session: UploadSession, parts: SessionPart[], verifiedBytes: number, directParts: boolean): UploadStatusBody {
  return {
    ...createUploadBody(session, directParts),
    state: session.state,
    // A part without an ETag is an encrypted part's claim whose upload never finished (sealed-parts.ts): not stored.
    parts: parts.filter((part) => part.etag !== "").map(partBody),
    verified_bytes: verifiedBytes,
    ...(session.state === "completed" ? { version: session.version } : {}),
    ...(session.state === "failed" && session.failure ? { failure: session.failure } : {}),
  };
}
