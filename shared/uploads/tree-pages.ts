import { TREE_FANOUT, treePageKeys, treePagesPrefix } from "../objects/digest-tree.ts";
import { CHECKPOINT_BYTES, progressOf } from "./progress.ts";
import type { UploadSession } from "./store.ts";

/**
 * Every tree page the session's verification may have written: those of the chunks up to its checkpoint, and of
 * one checkpoint's worth beyond it, which a complete that died before saving may have written. Deleting a page
 * that was never written succeeds.
 */
export function sessionTreePages(session: UploadSession): string[] {
  const { verify } = progressOf(session);
  if (!verify.assembled) return [];
  const chunks = Math.ceil(Math.min(session.size, verify.offset + CHECKPOINT_BYTES) / session.chunk_size);
  return treePageKeys({ pages: treePagesPrefix(session.version), fanout: TREE_FANOUT }, chunks);
}
