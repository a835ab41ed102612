import type { ObjectCipher } from "../crypto/chunk-aead.ts";
import { CHUNK_TAG_BYTES, isLastChunk } from "../crypto/chunk-layout.ts";
import { timingSafeEqual, fromHex } from "../crypto/encoding.ts";
import { EncryptionFailure } from "../crypto/failures.ts";
import { ResumableSha256 } from "../crypto/sha256-resumable.ts";
import { VerigateError } from "../errors/index.ts";
import { chunkReader } from "../objects/chunk-reader.ts";
import { DigestTreeBuilder, treePagesPrefix } from "../objects/digest-tree.ts";
import type { Manifest } from "../objects/manifest.ts";
import { updateSession } from "./access.ts";
import type { UploadDeps } from "./deps.ts";
import { CHECKPOINT_BYTES, progressOf, type VerifyProgress } from "./progress.ts";
import { sealedBlobSize, sessionCipher } from "./sealed-parts.ts";
import type { UploadSession } from "./store.ts";

/** The chunk digests of the object, as the manifest holds them (inline or a tree), once every byte was hashed. */
export type ManifestDigests = Pick<Manifest, "chunks" | "tree">;

export interface SliceLimits {
  /** Bytes this call verifies at most (`COMPLETE_SLICE_BYTES`), rounded up to whole chunks. */
  sliceBytes: number;
  /** Epoch ms after which the call checkpoints at the next chunk and stops, whatever is left of its slice. */
  deadlineMs: number;
  leaseMs: number;
}

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
 * the call: its slice of `sliceBytes` done, or its deadline passed. Storage is untrusted: every byte counted here was read back
 * from it, after the store assembled the parts, so what the manifest commits is what storage holds.
 */
export async function verifySlice(deps: UploadDeps, session: UploadSession, holder: string, limits: SliceLimits): Promise<SliceResult> {
  const chunk = session.chunk_size;
  const cipher = session.encryption ? await sessionCipher(deps, session) : undefined;
  const blobSize = cipher ? sealedBlobSize(session) : session.size;
  // An encrypted blob holds a tag after every chunk: plaintext offset (a chunk boundary or the end) -> blob offset.
  const at = (offset: number) => (cipher ? offset + CHUNK_TAG_BYTES * Math.ceil(offset / chunk) : offset);
  let current = session;
  let verify: VerifyProgress = progressOf(session).verify;
  const sha = verify.hash === null ? new ResumableSha256() : ResumableSha256.fromState(verify.hash);
  const tree = new DigestTreeBuilder(deps.storage, treePagesPrefix(session.version), undefined, verify.tree ?? undefined);
  const sliceEnd = Math.min(session.size, verify.offset + Math.ceil(limits.sliceBytes / chunk) * chunk);
  let outOfTime = false;

  while (verify.offset < sliceEnd && !outOfTime) {
    const start = verify.offset;
    const end = Math.min(sliceEnd, start + CHECKPOINT_BYTES);
    const stored = await deps.storage.get(session.blob, { offset: at(start), length: at(end) - at(start) });
    if (!stored || stored.size !== blobSize) {
      return { kind: "mismatch", session: current, detail: `the assembled object holds ${stored?.size ?? 0} bytes; ${blobSize} expected` };
    }
    const reader = chunkReader(stored.body);
    let reached = start;
    while (reached < end && !outOfTime) {
      const want = Math.min(chunk, end - reached);
      const chunkBytes = await reader.read(cipher ? want + CHUNK_TAG_BYTES : want);
      if (chunkBytes.length < (cipher ? want + CHUNK_TAG_BYTES : want)) {
        throw new VerigateError("internal", `storage ended the read of ${session.blob} at chunk ${reached / chunk}, before ${end}`);
      }
      // An encrypted object's digests are its ciphertext chunks'; the whole SHA-256 is the plaintext's.
      const digest = crypto.subtle.digest("SHA-256", chunkBytes);
      const plaintext = cipher ? await openChunk(cipher, reached / chunk, session, chunkBytes) : chunkBytes;
      if (!plaintext) return { kind: "mismatch", session: current, detail: `chunk ${reached / chunk} of the assembled object fails its tag` };
      sha.update(plaintext);
      await tree.add(new Uint8Array(await digest));
      reached += want;
      outOfTime = deps.clock() >= limits.deadlineMs;
    }
    await reader.cancel();
    verify = { assembled: true, offset: reached, hash: sha.exportState(), tree: tree.exportState() };
    const callDone = reached < session.size && (reached === sliceEnd || outOfTime);
    const saved = await updateSession(deps.uploads, current, {
      progress: { verify },
      // The call's last checkpoint releases the lease, so the client's next call goes on at once.
      lease: callDone ? null : { holder, until_ms: deps.clock() + limits.leaseMs },
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

/** Chunk `index`'s plaintext, or null when its tag fails: what storage assembled is not what the parts sealed. */
async function openChunk(cipher: ObjectCipher, index: number, session: UploadSession, sealed: Uint8Array<ArrayBuffer>): Promise<Uint8Array | null> {
  try {
    return await cipher.decrypt(index, isLastChunk(index, session.size, session.chunk_size), sealed);
  } catch (error) {
    if (error instanceof EncryptionFailure) return null;
    throw error;
  }
}
