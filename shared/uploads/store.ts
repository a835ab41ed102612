import type { ManifestEncryption } from "../crypto/envelope.ts";

/**
 * The upload session store: the strongly consistent record of each upload session and its parts (docs/PROTOCOL.md
 * "Upload sessions", docs/STORAGE.md). Separate from the metadata store because a session is read right after it
 * was written from anywhere (KV is eventually consistent) and has up to 10,000 part records (a DynamoDB item holds
 * 400 KB): on Workers one Durable Object per session, on AWS items of the DynamoDB table, in tests process memory.
 *
 * Every read is strongly consistent. `update` is a compare-and-set on the session's `rev`, so of concurrent
 * writers holding the same `rev` exactly one succeeds.
 */
export interface UploadSessionStore {
  readonly backend: UploadSessionBackendName;
  /** Stores a new session; false (nothing written) when a session with that id exists. */
  create(session: UploadSession): Promise<boolean>;
  /** The session, or null when there is none (never created, or deleted). */
  get(id: string): Promise<UploadSession | null>;
  /**
   * Replaces the session with `next` when the stored one still has `expectedRev`; `next.rev` must be
   * `expectedRev + 1`. False (nothing written) when the stored rev differs or the session is gone.
   */
  update(next: UploadSession, expectedRev: number): Promise<boolean>;
  /** Records (or replaces) one part of session `id`; false when the session is gone. */
  putPart(id: string, part: SessionPart): Promise<boolean>;
  /**
   * Records `part` only while no other digest holds its part number, atomically: of concurrent claims of one part
   * with different digests exactly one is `claimed` (docs/ENCRYPTION.md "Nonce uniqueness on every write path").
   * An empty `etag` claims the part before its bytes are stored and leaves a record of the same digest as it is; a
   * claim with the store's ETag replaces a record of the same digest. See `judgeClaim` for every answer.
   */
  claimPart(id: string, part: SessionPart): Promise<PartClaim>;
  /** Every recorded part of session `id` in part-number order (empty when the session is gone). */
  listParts(id: string): Promise<SessionPart[]>;
  /** Removes the session and all its parts; removing a missing session succeeds. */
  delete(id: string): Promise<void>;
}

/**
 * What `claimPart` answered: `claimed` (the part had no record; `part` is now it), `same` (a record of the same digest
 * holds it: a retry of the same bytes), `conflict` (a record of another digest holds it; nothing written), or
 * `missing` (no session; nothing written).
 */
export type PartClaim = "claimed" | "same" | "conflict" | "missing";

/**
 * The one rule of `claimPart` for a part whose record holds `recordedSha256` (undefined when it has none): the answer
 * and whether `part` is written. A store applies it in one atomic step (DynamoDB states it as its condition).
 */
export function judgeClaim(recordedSha256: string | undefined, part: SessionPart): { claim: Exclude<PartClaim, "missing">; write: boolean } {
  if (recordedSha256 === undefined) return { claim: "claimed", write: true };
  if (recordedSha256 !== part.sha256) return { claim: "conflict", write: false };
  return { claim: "same", write: part.etag !== "" };
}

/** A caller bug, refused before anything is written: `rev` must count every update, or the compare-and-set means nothing. */
export function assertNextRev(next: UploadSession, expectedRev: number): void {
  if (next.rev !== expectedRev + 1) throw new Error(`upload session ${next.id}: rev ${next.rev} does not follow ${expectedRev}`);
}

export type UploadSessionBackendName = "durable-object" | "dynamodb" | "memory";

export type UploadSessionState =
  /** Taking parts. */
  | "open"
  /** Complete started: the store assembled the parts, the gateway is hashing them (resumable, `progress`). */
  | "verifying"
  /** The whole digest matched; the manifest is being committed. */
  | "committing"
  /** Committed: `result` holds the PUT-style answer, repeated to every later complete. */
  | "completed"
  /** The whole digest differed (or the commit's precondition failed): nothing was committed; `failure` says why. */
  | "failed";

/** One session as stored; snake_case because this is stored JSON (like the manifest). */
export interface UploadSession {
  id: string;
  /** Bumped by every `update`; the compare-and-set tag. */
  rev: number;
  state: UploadSessionState;
  key: string;
  size: number;
  /** SHA-256 of the whole object the client declared (and signed), lowercase hex. */
  sha256: string;
  content_type: string;
  keyid: string;
  chunk_size: number;
  part_size: number;
  part_count: number;
  /** The version and blob the object gets; fixed at create. */
  version: string;
  blob: string;
  /**
   * An encrypted session's data key, wrapped for its key and version (docs/ENCRYPTION.md), made at create; the
   * manifest it commits carries it. The multipart upload then has no store-side part checksums.
   */
  encryption?: ManifestEncryption;
  /** The store's multipart upload id (`MultipartStorage.create`). */
  storage_upload_id: string;
  /** The precondition given at create, enforced by the commit: `If-None-Match: *` or `If-Match`. */
  if_none_match: boolean;
  if_match: string | null;
  /** ISO 8601. */
  created_at: string;
  expires_at: string;
  /** Who is running complete, until when (epoch ms); another complete waits for it or takes over after. */
  lease: { holder: string; until_ms: number } | null;
  /** Where verification stands (state `verifying`); opaque to the store. */
  progress: unknown;
  /** State `completed`: the 201 body (PutResponseBody). */
  result: unknown;
  /** State `failed`: the problem code and detail the complete answered. */
  failure: { code: string; detail: string } | null;
}

/** One stored part; `sha256` is lowercase hex of the part, `etag` the store's tag for `MultipartStorage.complete`. */
export interface SessionPart {
  part: number;
  size: number;
  sha256: string;
  etag: string;
}
