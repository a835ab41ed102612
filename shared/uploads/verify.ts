import { timingSafeEqual, fromHex } from "../crypto/encoding.ts";
import { ResumableSha256 } from "../crypto/sha256-resumable.ts";
import { VerigateError } from "../errors/index.ts";
import { chunkReader } from "../objects/chunk-reader.ts";
import { DigestTreeBuilder, treePagesPrefix } from "../objects/digest-tree.ts";
import type { Manifest } from "../objects/manifest.ts";
import { updateSession } from "./access.ts";
import type { UploadDeps } from "./deps.ts";
import { CHECKPOINT_BYTES, progressOf, type VerifyProgress } from "./progress.ts";
import type { UploadSession } from "./store.ts";

/** The chunk digests of the object, as the manifest holds them (inline or a tree), once every byte was hashed. */
export type ManifestDigests = Pick<Manifest, "chunks" | "tree">;

export type SliceResult =
  /** Lost the lease to another complete: it goes on from the last checkpoint. */
  | { kind: "lost" }
  /** The slice is done and saved (lease released); bytes remain. */
  | { kind: "more"; session: UploadSession }
  /** Every byte hashed and the whole SHA-256 matched the declared one. */
  | { kind: "verified"; session: UploadSession; digests: ManifestDigests }
  /** The assembled object is not the declared one: its size or its SHA-256 differs. */
  | { kind: "mismatch"; session: UploadSession; detail: string };

/**
 * Reads the assembled blob back from the saved offset, in chunk_size pieces through one ranged read per checkpoint,
 * and feeds each chunk to the resumable whole-object SHA-256 and its native digest to the digest tree, saving both
 * states with the offset (a compare-and-set that renews `holder`'s lease) every `CHECKPOINT_BYTES` and at the end of
 * the slice of `sliceBytes` (rounded up to whole chunks). Storage is untrusted: every byte counted here was read back
 * from it, after the store assembled the parts, so what the manifest commits is what storage holds.
 */
export async function verifySlice(deps: UploadDeps, session: UploadSession, holder: string, leaseMs: number, sliceBytes: number): Promise<SliceResult> {
  const chunk = session.chunk_size;
  let current = session;
  let verify: VerifyProgress = progressOf(session).verify;
  const sha = verify.hash === null ? new ResumableSha256() : ResumableSha256.fromState(verify.hash);
  const tree = new DigestTreeBuilder(deps.storage, treePagesPrefix(session.version), undefined, verify.tree ?? undefined);
  const sliceEnd = Math.min(session.size, verify.offset + Math.ceil(sliceBytes / chunk) * chunk);

  while (verify.offset < sliceEnd) {
    const start = verify.offset;
    const end = Math.min(sliceEnd, start + CHECKPOINT_BYTES);
    const stored = await deps.storage.get(session.blob, { offset: start, length: end - start });
    if (!stored || stored.size !== session.size) {
      return { kind: "mismatch", session: current, detail: `the assembled object holds ${stored?.size ?? 0} bytes; ${session.size} declared` };
    }
    const reader = chunkReader(stored.body);
    for (let at = start; at < end; at += chunk) {
      const want = Math.min(chunk, end - at);
      const bytes = await reader.read(want);
      if (bytes.length < want) throw new VerigateError("internal", `storage ended the read of ${session.blob} at ${at + bytes.length}, before ${end}`);
      const digest = crypto.subtle.digest("SHA-256", bytes);
      sha.update(bytes);
      await tree.add(new Uint8Array(await digest));
    }
    await reader.cancel();
    verify = { assembled: true, offset: end, hash: sha.exportState(), tree: tree.exportState() };
    const sliceDone = end === sliceEnd && end < session.size;
    const saved = await updateSession(deps.uploads, current, {
      progress: { verify },
      // The slice's last checkpoint releases the lease, so the client's next call goes on at once.
      lease: sliceDone ? null : { holder, until_ms: deps.clock() + leaseMs },
    });
    if (!saved) return { kind: "lost" };
    current = saved;
  }
  if (verify.offset < session.size) return { kind: "more", session: current };
  if (!timingSafeEqual(sha.digest(), fromHex(session.sha256))) {
    return { kind: "mismatch", session: current, detail: "the assembled object's SHA-256 differs from the declared sha256" };
  }
  return { kind: "verified", session: current, digests: await tree.finish() };
}
