import type { VerigateError } from "../errors/index.ts";
import type { SwapCondition } from "../metadata/index.ts";
import { commitCurrent } from "../objects/commit.ts";
import { DEFAULT_CONTENT_TYPE, type Manifest, readCurrent, sealManifest, versionKey } from "../objects/manifest.ts";
import { commitCondition, refusal, type WritePrecondition } from "../objects/precondition.ts";
import { isVerigateError } from "../errors/index.ts";
import { updateSession } from "./access.ts";
import type { UploadDeps } from "./deps.ts";
import { progressOf } from "./progress.ts";
import type { UploadSession } from "./store.ts";
import type { ManifestDigests } from "./verify.ts";

export type CommitStep =
  | { kind: "committed"; session: UploadSession; manifest: Manifest }
  /** The precondition failed: nothing of this session is current. */
  | { kind: "refused"; session: UploadSession; error: VerigateError }
  /** Another complete took the session over. */
  | { kind: "lost" };

/**
 * Commits a session whose every byte was verified: saves the manifest with the session (state `committing`, so a
 * complete that takes over after a crash can finish the commit), then writes `ver:` and swaps the current manifest
 * under the session's precondition, exactly as PUT does, reading the current manifest just before.
 */
export async function commitVerified(deps: UploadDeps, session: UploadSession, digests: ManifestDigests, holder: string, leaseMs: number): Promise<CommitStep> {
  // Signed before it is saved with the session: a complete that takes over commits exactly this manifest.
  const manifest = await sealManifest(deps, {
    key: session.key,
    version: session.version,
    size: session.size,
    sha256: session.sha256,
    chunk_size: session.chunk_size,
    ...digests,
    content_type: session.content_type || DEFAULT_CONTENT_TYPE,
    created_at: new Date(deps.clock()).toISOString(),
    keyid: session.keyid,
    blob: session.blob,
    ...(session.encryption ? { encryption: session.encryption } : {}),
  });
  const current = await readCurrent(deps, session.key);
  const condition = conditionFor(session, current);
  if (isVerigateError(condition)) return { kind: "refused", session, error: condition };
  const committing = await updateSession(deps.uploads, session, {
    state: "committing",
    progress: { ...progressOf(session), commit: { manifest, expected_version: current?.version ?? null } },
    lease: { holder, until_ms: deps.clock() + leaseMs },
  });
  if (!committing) return { kind: "lost" };
  return commitManifest(deps, committing, manifest, condition, current);
}

/**
 * Finishes the commit of a session a complete left in `committing`. Its version is current: it committed. The
 * current version is still the one it read before committing: the swap never happened, so it runs now. Any other
 * version is a writer that came since, which this commit must not undo whether or not it had landed first: refused,
 * as a precondition that failed (the object that writer stored stays current).
 */
export async function finishInterruptedCommit(deps: UploadDeps, session: UploadSession): Promise<CommitStep> {
  const { commit } = progressOf(session);
  if (!commit) throw new Error(`upload session ${session.id} is committing without a manifest`);
  const current = await readCurrent(deps, session.key);
  if (current?.version === session.version) return { kind: "committed", session, manifest: commit.manifest };
  if ((current?.version ?? null) !== commit.expected_version) {
    const error = refusal({ kind: session.if_none_match ? "absent" : "present" }, "another writer committed while this session was committing");
    return { kind: "refused", session, error };
  }
  const condition = conditionFor(session, current);
  if (isVerigateError(condition)) return { kind: "refused", session, error: condition };
  return commitManifest(deps, session, commit.manifest, condition, current);
}

async function commitManifest(
  deps: UploadDeps,
  session: UploadSession,
  manifest: Manifest,
  condition: SwapCondition,
  expected: Manifest | null,
): Promise<CommitStep> {
  await deps.metadata.put(versionKey(manifest.version), manifest);
  const committed = await commitCurrent(deps, manifest.key, manifest, condition, expected);
  if (!committed.done) return { kind: "refused", session, error: refusal(condition, "another writer committed first") };
  return { kind: "committed", session, manifest };
}

/** The session's precondition (given at create) against `current`, as PUT evaluates its own; the refusal when it fails. */
function conditionFor(session: UploadSession, current: Manifest | null): SwapCondition | VerigateError {
  const precondition: WritePrecondition = { ifNoneMatch: session.if_none_match, ifMatch: session.if_match ?? undefined };
  try {
    return commitCondition(precondition, current);
  } catch (error) {
    if (isVerigateError(error)) return error;
    throw error;
  }
}
