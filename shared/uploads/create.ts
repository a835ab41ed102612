import { newObjectKey } from "../crypto/envelope.ts";
import { SHARE, VerigateError } from "../errors/index.ts";
import { readCurrent, DEFAULT_CONTENT_TYPE } from "../objects/manifest.ts";
import { commitCondition, type WritePrecondition } from "../objects/precondition.ts";
import { blobKeyFor, newVersion } from "../objects/version.ts";
import type { UploadDeps } from "./deps.ts";
import { newUploadId } from "./id.ts";
import { partSizeFor } from "./layout.ts";
import type { CreateUploadRequest } from "./request.ts";
import { scheduleSessionSweep } from "./sweep.ts";
import type { UploadSession } from "./store.ts";

export interface CreateUploadInput extends CreateUploadRequest, WritePrecondition {
  keyid: string;
}

/** The configuration a session is cut by (PROTOCOL section 7). */
export interface UploadLimits {
  chunkSize: number;
  uploadPartBytes: number;
  maxUploadSessionBytes: number;
  uploadSessionSeconds: number;
}

/**
 * Opens an upload session: checks the declared size and the precondition before anything exists (`too_large`,
 * `already_exists`, `precondition_failed`), starts the store's multipart upload of the version's blob, writes the
 * sweep record that removes all of it once the session expires, then the session itself. The precondition is only
 * checked here for an early refusal; the commit at complete enforces it.
 */
export async function createUpload(deps: UploadDeps, input: CreateUploadInput, limits: UploadLimits): Promise<UploadSession> {
  if (input.size > limits.maxUploadSessionBytes) {
    throw new VerigateError("too_large", `${input.size} bytes declared; the limit for an upload session is ${limits.maxUploadSessionBytes}`, SHARE);
  }
  commitCondition(input, await readCurrent(deps, input.key));

  const nowMs = deps.clock();
  const version = newVersion(nowMs);
  const blob = blobKeyFor(version);
  const partSize = partSizeFor(input.size, limits.chunkSize, limits.uploadPartBytes);
  const expiresMs = nowMs + limits.uploadSessionSeconds * 1000;
  const contentType = input.contentType ?? DEFAULT_CONTENT_TYPE;
  const ring = deps.config.encryption.ring;
  // Made here and kept only wrapped, so every part and the commit use the one data key of this version.
  const encryption = ring ? (await newObjectKey(ring, { key: input.key, version })).encryption : undefined;
  // An encrypted part's SHA-256 is unknown before it is sealed: the gateway's digests and tags carry its integrity.
  const storageUploadId = await deps.storage.multipart.create(blob, encryption ? { checksums: false } : { contentType });
  const session: UploadSession = {
    id: newUploadId(nowMs),
    rev: 0,
    state: "open",
    key: input.key,
    size: input.size,
    sha256: input.sha256,
    content_type: contentType,
    keyid: input.keyid,
    chunk_size: limits.chunkSize,
    part_size: partSize,
    part_count: Math.ceil(input.size / partSize),
    version,
    blob,
    ...(encryption ? { encryption } : {}),
    storage_upload_id: storageUploadId,
    if_none_match: input.ifNoneMatch === true,
    if_match: input.ifMatch ?? null,
    created_at: new Date(nowMs).toISOString(),
    expires_at: new Date(expiresMs).toISOString(),
    lease: null,
    progress: null,
    result: null,
    failure: null,
  };
  // Before the session exists: whatever happens next, the multipart upload and the blob are swept once it expires.
  await scheduleSessionSweep(deps.metadata, expiresMs, session);
  if (!(await deps.uploads.create(session))) throw new VerigateError("internal", `upload id ${session.id} exists`);
  return session;
}
