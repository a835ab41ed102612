import { describeError } from "../log.ts";
import { GC_GRACE_MS, scheduleGarbage } from "../objects/garbage.ts";
import type { UploadDeps } from "./deps.ts";
import { progressOf } from "./progress.ts";
import type { UploadSession } from "./store.ts";
import { sessionTreeGarbage } from "./tree-pages.ts";

/**
 * Removes what the session assembled: its blob at once, and its digest-tree pages through an object sweep record due
 * now, which deletes them within the sweep's page budget however large the tree grew. A version whose commit was
 * attempted may have been current, however briefly, and someone may be reading it: it gets the object sweep's record
 * of its manifest instead (blob and tree deleted after the grace period unless the version is then current). Throws on
 * a storage failure; the session's sweep record retries.
 */
export async function discardAssembled(deps: Pick<UploadDeps, "storage" | "metadata" | "clock">, session: UploadSession): Promise<void> {
  const { commit } = progressOf(session);
  if (commit) {
    await scheduleGarbage(deps.metadata, deps.clock() + GC_GRACE_MS, commit.manifest);
    return;
  }
  const tree = sessionTreeGarbage(session);
  if (tree) await scheduleGarbage(deps.metadata, deps.clock(), { key: session.key, version: session.version, blob: session.blob, tree });
  await deps.storage.delete(session.blob);
}

/** `discardAssembled` where a failure is only logged: the answer the client gets does not depend on it. */
export async function discardQuietly(deps: UploadDeps, session: UploadSession, requestId: string): Promise<void> {
  try {
    await discardAssembled(deps, session);
  } catch (error) {
    deps.log.log("warn", "upload_cleanup_failed", { upload_id: session.id, blob: session.blob, request_id: requestId, ...describeError(error) });
  }
}
