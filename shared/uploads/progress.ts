import { MIB } from "../bytes.ts";
import type { Manifest } from "../objects/manifest.ts";
import type { TreeBuilderState } from "../objects/digest-tree.ts";
import type { UploadSession } from "./store.ts";

/**
 * Bytes hashed between two saved checkpoints: what a complete that dies loses at most. Each checkpoint is one
 * session-store write holding about 150 KB of tree state at worst, so 256 MiB keeps that write well under 1% of
 * the slice's time, and one ranged read per checkpoint keeps the subrequests of a 4 GiB slice at 16.
 */
export const CHECKPOINT_BYTES = 256 * MIB;

/** Where verification stands: saved at every checkpoint, so the next complete call resumes exactly there. */
export interface VerifyProgress {
  /** The store's multipart upload was completed into the session's blob. */
  assembled: boolean;
  /** Bytes read back and hashed: a chunk boundary, or the size once done. */
  offset: number;
  /** `ResumableSha256.exportState()` at `offset`; null before the first byte. */
  hash: string | null;
  /** `DigestTreeBuilder.exportState()` at `offset`; null before the first byte. */
  tree: TreeBuilderState | null;
}

/** Saved when the whole digest matched, before the commit: what a complete taking over an interrupted commit needs. */
export interface CommitProgress {
  manifest: Manifest;
  /** The version that was current when the commit began (null: none), to tell whether another writer came since. */
  expected_version: string | null;
}

/** The session's `progress` field as this core writes it (the store keeps it opaque). */
export interface SessionProgress {
  verify: VerifyProgress;
  commit?: CommitProgress;
}

export const NO_PROGRESS: SessionProgress = { verify: { assembled: false, offset: 0, hash: null, tree: null } };

export function progressOf(session: UploadSession): SessionProgress {
  return (session.progress as SessionProgress | null) ?? NO_PROGRESS;
}

/** Bytes of the assembled object verified so far, as status and a pending complete report them. */
export function verifiedBytes(session: UploadSession): number {
  if (session.state === "completed" || session.state === "committing") return session.size;
  return progressOf(session).verify.offset;
}
