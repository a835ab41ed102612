import { TREE_FANOUT, treePagesPrefix } from "../objects/digest-tree.ts";
import { treeGarbage, type TreeGarbage } from "../objects/garbage.ts";
import { CHECKPOINT_BYTES, progressOf } from "./progress.ts";
import type { UploadSession } from "./store.ts";

/**
 * The tree pages the session's verification may have written, as the object sweep deletes them: those of the chunks
 * up to its checkpoint and of one checkpoint's worth beyond it, which a complete that died before saving may have
 * written (deleting a page that was never written succeeds). None before assembly, or while the digests fit inline.
 */
export function sessionTreeGarbage(session: UploadSession): TreeGarbage | undefined {
  const { verify } = progressOf(session);
  if (!verify.assembled) return undefined;
  const chunks = Math.ceil(Math.min(session.size, verify.offset + CHECKPOINT_BYTES) / session.chunk_size);
  return treeGarbage({ pages: treePagesPrefix(session.version), fanout: TREE_FANOUT }, chunks);
}
