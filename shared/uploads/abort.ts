import { SHARE, VerigateError } from "../errors/index.ts";
import { closeSession, releaseSession } from "./close.ts";
import type { UploadDeps } from "./deps.ts";
import type { UploadSession } from "./store.ts";

/** What a complete racing an abort answers: the session is gone, as it is for every later request. */
const ABORTED = { code: "not_found", detail: "the upload session was aborted" };

/**
 * Aborts a session: the store's upload and its parts, whatever complete assembled, and the session go. A session
 * whose complete reached the commit is `upload_closed`: its object is (or is about to be) an object like any other,
 * removed with DELETE /v1/objects/{key}. Aborting a failed session removes it.
 */
export async function abortUpload(deps: UploadDeps, session: UploadSession): Promise<void> {
  const closed = await closeSession(deps, session, ABORTED);
  if (!closed) return;
  if (closed.state === "committing" || closed.state === "completed") {
    throw new VerigateError("upload_closed", `the session is ${closed.state}; its object is removed with DELETE /v1/objects/{key}`, SHARE);
  }
  await releaseSession(deps, closed);
}
