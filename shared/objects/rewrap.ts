import { rewrapDataKey } from "../crypto/envelope.ts";
import { EncryptionFailure } from "../crypto/failures.ts";
import type { KeyRing } from "../crypto/key-ring.ts";
import { VerigateError } from "../errors/index.ts";
import type { ObjectDeps } from "./deps.ts";
import { CURRENT_PREFIX, MANIFEST_TAG_FIELD } from "./manifest.ts";
import { signManifest, type StoredManifest, verifyManifest } from "./manifest-signature.ts";

/**
 * The rewrap pass of a key rotation (docs/ENCRYPTION.md "Rotation", docs/OPERATIONS.md): walks every manifest record
 * (`obj:`, then `ver:`) and rewrites each one not yet wholly under the current deployment key: its data key re-wrapped
 * (the data and its nonce prefix stay), its signature made again. Unsigned legacy manifests are signed too, but only
 * while `UNSIGNED_MANIFESTS=read` says the operator vouches for them. A pass advances one bounded slice per admin call
 * or scheduled sweep; its progress is one metadata record, so a slice that dies is simply done again.
 */

/** Metadata key of the pass's state (docs/STORAGE.md). */
export const REWRAP_STATE_KEY = "enc:rewrap";
/** At most this many manifests per slice, and at most this long: one request's worth of work on every runtime. */
export const REWRAP_SLICE_MANIFESTS = 100;
export const REWRAP_SLICE_MS = 20_000;

const PHASES = [CURRENT_PREFIX, "ver:"] as const;
type Phase = (typeof PHASES)[number];

/** Counts of manifest records by the deployment key ids they depend on (signature and wrapped key). */
export type KidCounts = Record<string, number>;

/** The last pass that walked every record, for /healthz: what each key id still protects. */
export interface CompletedPass {
  target_kid: string;
  started_at: string;
  finished_at: string;
  objects_by_kid: KidCounts;
  unsigned: number;
  failed: number;
}

/** The stored record: the pass in progress (or the last one, done) and the last completed one. */
export interface RewrapState {
  state: "running" | "done";
  target_kid: string;
  started_at: string;
  /** Also the record's swap tag: two slices at once cannot both save. */
  updated_at: string;
  finished_at: string | null;
  phase: Phase;
  /** The store's cursor of the page being walked (null: the phase's first page) and the last record done in it. */
  page_cursor: string | null;
  last_key: string | null;
  scanned: number;
  rewrapped: number;
  signed: number;
  failed: number;
  /** Records found so far by key id after this pass's rewrite; `unsigned` those left unsigned. */
  by_kid: KidCounts;
  unsigned: number;
  last_completed: CompletedPass | null;
}

const STATE_TAG_FIELD = "updated_at" satisfies keyof RewrapState;

/** The progress answer of `/v1/admin/encryption/rewrap` (PROTOCOL section 5). */
export interface RewrapProgress {
  state: "idle" | "running" | "done";
  target_kid: string | null;
  scanned: number;
  rewrapped: number;
  signed: number;
  failed: number;
  unsigned: number;
  /** Records still under a key id other than the target, by key id. */
  remaining_by_kid: KidCounts;
  /** The last record the pass handled (its metadata key), or null before the first. */
  cursor: string | null;
  started_at: string | null;
  updated_at: string | null;
  finished_at: string | null;
}

type RewrapDeps = Pick<ObjectDeps, "metadata" | "log" | "clock" | "config">;

export async function readRewrapState(deps: Pick<ObjectDeps, "metadata">): Promise<RewrapState | null> {
  return deps.metadata.get<RewrapState>(REWRAP_STATE_KEY);
}

export function rewrapProgress(state: RewrapState | null): RewrapProgress {
  if (state === null) {
    return {
      state: "idle",
      target_kid: null,
      scanned: 0,
      rewrapped: 0,
      signed: 0,
      failed: 0,
      unsigned: 0,
      remaining_by_kid: {},
      cursor: null,
      started_at: null,
      updated_at: null,
      finished_at: null,
    };
  }
  const remaining = Object.fromEntries(Object.entries(state.by_kid).filter(([kid, count]) => kid !== state.target_kid && count > 0));
  const { scanned, rewrapped, signed, failed, unsigned, started_at, updated_at, finished_at } = state;
  const cursor = state.last_key === null ? null : state.phase + state.last_key;
  return {
    state: state.state,
    target_kid: state.target_kid,
    scanned,
    rewrapped,
    signed,
    failed,
    unsigned,
    remaining_by_kid: remaining,
    cursor,
    started_at,
    updated_at,
    finished_at,
  };
}

/**
 * Starts a pass (none yet, the last one done, or one for a key that is no longer current) or resumes the unfinished
 * one, and does one slice; the state after it. `start` false (the scheduled sweep) only advances an unfinished pass,
 * and answers null when there is none. Throws 503 `misconfigured` without ENCRYPTION_KEYS.
 */
export async function rewrapSlice(deps: RewrapDeps, options: { start: boolean; requestId: string; sliceManifests?: number }): Promise<RewrapState | null> {
  const { ring } = deps.config.encryption;
  if (ring === null) throw new VerigateError("misconfigured", "ENCRYPTION_KEYS is not set: there is nothing to rewrap to");
  const stored = await readRewrapState(deps);
  const resumable = stored !== null && stored.state === "running" && stored.target_kid === ring.current;
  if (!resumable && !options.start) return null;
  const startedMs = deps.clock();
  const state: RewrapState = resumable ? { ...stored, by_kid: { ...stored.by_kid } } : newPass(ring, stored, startedMs);
  if (!resumable) deps.log.log("info", "rewrap_started", { request_id: options.requestId, target_kid: ring.current });
  await walkSlice(deps, ring, state, { startedMs, manifests: options.sliceManifests ?? REWRAP_SLICE_MANIFESTS }, options.requestId);
  state.updated_at = laterThan(stored, deps.clock());
  if (state.state === "done") {
    state.finished_at = state.updated_at;
    const { target_kid, started_at, by_kid: objects_by_kid, unsigned, failed } = state;
    state.last_completed = { target_kid, started_at, finished_at: state.updated_at, objects_by_kid, unsigned, failed };
    deps.log.log("info", "rewrap_finished", { request_id: options.requestId, ...rewrapProgress(state) });
  }
  const saved = await deps.metadata.swap(
    REWRAP_STATE_KEY,
    state,
    stored === null ? { kind: "absent" } : { kind: "tag", tag: stored.updated_at },
    STATE_TAG_FIELD,
  );
  // Another slice saved first: its progress stands, and what this one rewrote is already done for the next.
  if (!saved.done) return readRewrapState(deps);
  return state;
}

/** Now, or a millisecond past the stored record's time when the clock has not moved: the tag must change on every save. */
function laterThan(stored: RewrapState | null, nowMs: number): string {
  const storedMs = stored === null ? Number.NEGATIVE_INFINITY : Date.parse(stored.updated_at);
  return new Date(Math.max(nowMs, storedMs + 1)).toISOString();
}

function newPass(ring: KeyRing, previous: RewrapState | null, nowMs: number): RewrapState {
  const now = new Date(nowMs).toISOString();
  return {
    state: "running",
    target_kid: ring.current,
    started_at: now,
    updated_at: now,
    finished_at: null,
    phase: PHASES[0],
    page_cursor: null,
    last_key: null,
    scanned: 0,
    rewrapped: 0,
    signed: 0,
    failed: 0,
    by_kid: {},
    unsigned: 0,
    last_completed: previous?.last_completed ?? null,
  };
}

/** Walks from the saved position until the slice's budget is spent or the last page of the last phase is done. */
async function walkSlice(
  deps: RewrapDeps,
  ring: KeyRing,
  state: RewrapState,
  budget: { startedMs: number; manifests: number },
  requestId: string,
): Promise<void> {
  let handled = 0;
  const spent = () => handled >= budget.manifests || deps.clock() - budget.startedMs >= REWRAP_SLICE_MS;
  while (!spent()) {
    const page = await deps.metadata.list(state.phase, { limit: REWRAP_SLICE_MANIFESTS, ...(state.page_cursor ? { cursor: state.page_cursor } : {}) });
    const names = page.keys.map((key) => key.slice(state.phase.length));
    const resumeAt = state.last_key === null ? 0 : names.indexOf(state.last_key) + 1;
    let finishedPage = true;
    for (const name of names.slice(resumeAt)) {
      if (spent()) {
        finishedPage = false;
        break;
      }
      await rewrapRecord(deps, ring, state, name, requestId);
      state.last_key = name;
      handled++;
    }
    if (!finishedPage) return;
    state.last_key = null;
    if (page.cursor) {
      state.page_cursor = page.cursor;
      continue;
    }
    state.page_cursor = null;
    const next = PHASES[PHASES.indexOf(state.phase) + 1];
    if (next === undefined) {
      state.state = "done";
      return;
    }
    state.phase = next;
  }
}

/**
 * One record: verified exactly as a read verifies it (for a `ver:` record, pinned to its version), rewritten when any
 * part of it is under another key id, and saved only if the record is still the version that was read, so a concurrent
 * upload, overwrite or delete wins and this record is left to it. The condition is the manifest's swap tag (its
 * `sha256`, which a rewrap does not change): DynamoDB keeps one tag attribute per record and the Workers commit
 * authority its own copy, so a second kind of tag on the same record would break both. A new version of the same
 * bytes has the same tag; the swap's answer tells, and the record is put back. A record that fails verification is left alone and
 * logged: a rewrap must never launder a forged manifest into a signed one.
 */
async function rewrapRecord(deps: RewrapDeps, ring: KeyRing, state: RewrapState, name: string, requestId: string): Promise<void> {
  const recordKey = state.phase + name;
  const stored = await deps.metadata.get<StoredManifest>(recordKey);
  if (stored === null) return;
  state.scanned++;
  const expected = state.phase === CURRENT_PREFIX ? { key: name } : { key: String(stored.key), version: name };
  const policy = { ring, readUnsignedLegacy: deps.config.encryption.readUnsignedLegacy, log: deps.log };
  let rewritten: StoredManifest;
  try {
    const manifest = await verifyManifest(stored, expected, policy);
    if (isUnder(manifest, ring.current)) return countKids(state, manifest);
    const encryption = manifest.encryption && (await rewrapDataKey(ring, manifest.encryption, { key: manifest.key, version: manifest.version }));
    rewritten = await signManifest(ring, { ...manifest, ...(encryption ? { encryption } : {}) });
  } catch (error) {
    if (!(error instanceof EncryptionFailure)) throw error;
    state.failed++;
    if (error.reason === "manifest_unsigned") state.unsigned++;
    countKids(state, stored);
    deps.log.log("error", "rewrap_manifest_refused", { request_id: requestId, record: recordKey, reason: error.reason, detail: error.message });
    return;
  }
  const swapped = await deps.metadata.swap(recordKey, rewritten, { kind: "tag", tag: stored.sha256 }, MANIFEST_TAG_FIELD);
  if (!swapped.done) return countKids(state, (await deps.metadata.get<StoredManifest>(recordKey)) ?? {});
  if (swapped.previous !== null && swapped.previous.version !== stored.version) {
    // A new version of the same bytes (same tag) landed between the read and the swap: it wins, put back as it was.
    await deps.metadata.swap(recordKey, swapped.previous, { kind: "tag", tag: stored.sha256 }, MANIFEST_TAG_FIELD);
    return countKids(state, swapped.previous);
  }
  if (stored.signature === undefined) state.signed++;
  else state.rewrapped++;
  countKids(state, rewritten);
}

function isUnder(manifest: StoredManifest, kid: string): boolean {
  return manifest.signature?.kid === kid && (manifest.encryption === undefined || manifest.encryption.kid === kid);
}

/** Adds one to each key id the record depends on; an unsigned plain record depends on none. */
function countKids(state: RewrapState, record: Partial<StoredManifest>): void {
  const kids = new Set([record.signature?.kid, record.encryption?.kid].filter((kid): kid is string => typeof kid === "string"));
  for (const kid of kids) state.by_kid[kid] = (state.by_kid[kid] ?? 0) + 1;
}
