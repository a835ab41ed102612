import { VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import { updateSession } from "./access.ts";
import type { UploadDeps } from "./deps.ts";
import { sealedBlobSize } from "./sealed-parts.ts";
import { NO_PROGRESS, progressOf } from "./progress.ts";
import type { UploadSession } from "./store.ts";

/**
 * Completes the store's multipart upload into the session's blob from the recorded parts, once, and saves that it
 * did; the session as saved, or null when another complete took it over. The store checks each part's ETag (and on
 * S3 its SHA-256); nothing else about the parts is trusted, since verification reads every assembled byte back.
 *
 * A store that refuses (a part replaced behind its record, a part under its minimum size) or fails leaves its upload
 * as it was: the session is open again for parts to be resent, and the call answers 500 `internal`. A refusal
 * because an earlier complete, cut off before saving, already assembled the blob is recognised by the blob's size.
 */
export async function assembleParts(deps: UploadDeps, session: UploadSession, requestId: string): Promise<UploadSession | null> {
  const progress = progressOf(session);
  if (progress.verify.assembled) return session;
  const parts = (await deps.uploads.listParts(session.id)).filter((part) => part.part <= session.part_count);
  try {
    await deps.storage.multipart.complete(
      session.blob,
      session.storage_upload_id,
      // An encrypted session's parts were stored without checksums: their SHA-256s are the plaintext's.
      parts.map((part) => ({ partNumber: part.part, etag: part.etag, sha256: session.encryption ? "" : part.sha256 })),
    );
  } catch (error) {
    if (!(await holdsDeclaredSize(deps, session))) {
      deps.log.log("warn", "upload_assembly_failed", { upload_id: session.id, request_id: requestId, ...describeError(error) });
      await updateSession(deps.uploads, session, { state: "open", lease: null, progress: null });
      throw new VerigateError("internal", "the store did not assemble the parts", { cause: error });
    }
  }
  return updateSession(deps.uploads, session, { progress: { ...progress, verify: { ...NO_PROGRESS.verify, assembled: true } } });
}

async function holdsDeclaredSize(deps: UploadDeps, session: UploadSession): Promise<boolean> {
  const stored = await deps.storage.get(session.blob, { offset: 0, length: 1 });
  await stored?.body.cancel();
  return stored?.size === (session.encryption ? sealedBlobSize(session) : session.size);
}
