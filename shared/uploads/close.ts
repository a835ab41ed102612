import { updateSession } from "./access.ts";
import type { UploadDeps } from "./deps.ts";
import { discardAssembled } from "./discard.ts";
import { progressOf } from "./progress.ts";
import type { UploadSession } from "./store.ts";

/**
 * Marks an open or verifying session failed with `failure`, by compare-and-set, so a complete holding its lease
 * loses it at its next checkpoint and commits nothing. A session already settled (committing, completed, failed) is
 * returned as it is; null when it is gone.
 */
export async function closeSession(
  deps: Pick<UploadDeps, "uploads">,
  session: UploadSession,
  failure: { code: string; detail: string },
): Promise<UploadSession | null> {
  for (let seen: UploadSession | null = session; seen; seen = await deps.uploads.get(session.id)) {
    if (seen.state !== "open" && seen.state !== "verifying") return seen;
    const closed = await updateSession(deps.uploads, seen, { state: "failed", lease: null, failure });
    if (closed) return closed;
  }
  return null;
}

/**
 * Drops everything a closed, uncompleted session holds: the store's multipart upload (none once assembled: s3rver
 * even refuses to abort a completed one, with MethodNotAllowed), what it assembled, then the session.
 */
export async function releaseSession(deps: Pick<UploadDeps, "uploads" | "storage" | "metadata" | "clock">, session: UploadSession): Promise<void> {
  if (!progressOf(session).verify.assembled) await deps.storage.multipart.abort(session.blob, session.storage_upload_id);
  await discardAssembled(deps, session);
  await deps.uploads.delete(session.id);
}
