import { VerigateError } from "../errors/index.ts";
import { isUploadId } from "./id.ts";
import type { UploadSession, UploadSessionStore } from "./store.ts";

/**
 * The session `id` as its owner sees it. A malformed id, a session another keyid created and an expired one are
 * all `not_found`, alike, so a caller learns nothing about sessions that are not its own.
 */
export async function ownSession(store: UploadSessionStore, id: string, keyid: string, nowMs: number): Promise<UploadSession> {
  const session = isUploadId(id) ? await store.get(id) : null;
  if (!session || session.keyid !== keyid || nowMs >= Date.parse(session.expires_at)) throw new VerigateError("not_found");
  return session;
}

/** Writes `changes` over `session` if nobody wrote it since it was read; the written session, or null when someone did. */
export async function updateSession(store: UploadSessionStore, session: UploadSession, changes: Partial<UploadSession>): Promise<UploadSession | null> {
  const next: UploadSession = { ...session, ...changes, rev: session.rev + 1 };
  return (await store.update(next, session.rev)) ? next : null;
}
