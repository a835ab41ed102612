import { SHARE, VerigateError, type ErrorCode } from "../errors/index.ts";
import { putResponseBody, type PutResponseBody } from "../objects/manifest.ts";
import { updateSession } from "./access.ts";
import { assembleParts } from "./assemble.ts";
import { type CommitStep, commitVerified, finishInterruptedCommit } from "./commit.ts";
import { partLength } from "./layout.ts";
import type { UploadDeps } from "./deps.ts";
import { discardQuietly } from "./discard.ts";
import { NO_PROGRESS, verifiedBytes } from "./progress.ts";
import type { UploadSession } from "./store.ts";
import { verifySlice } from "./verify.ts";
import type { CompletePendingBody } from "./wire.ts";

/**
 * How long one complete call holds a session before another may take it over. Longer than any single step it
 * cannot renew the lease in: the store's assembly of up to 10,000 parts (S3 documents that it may take minutes) and
 * one checkpoint's reading and hashing (256 MiB: seconds). A complete that dies holds the session up this long.
 */
export const COMPLETE_LEASE_MS = 5 * 60 * 1000;
/**
 * How long one complete call verifies before it checkpoints and answers 202, whatever is left of its slice: under the
 * Lambda gateway's 60 s timeout (deploy/template.yaml), where 4 GiB of pure-JS hashing on a 1,024 MB function (about
 * 0.6 of a vCPU) would take over a minute, and short enough that no client or proxy gives up on the answer.
 */
export const COMPLETE_CALL_MS = 20_000;
/** A complete that found another one working asks the client back after a second, as the overload answer does. */
const BUSY_RETRY_SECONDS = 1;

export type CompleteOutcome =
  | { done: true; body: PutResponseBody }
  /** Not committed yet: the client calls complete again after `retryAfterSeconds`. */
  | { done: false; body: CompletePendingBody; retryAfterSeconds: number };

export interface CompleteContext {
  sliceBytes: number;
  requestId: string;
}

/**
 * One complete call (PROTOCOL "Upload sessions"). The first assembles the parts in the store and starts verifying;
 * each verifies up to `sliceBytes` more from the saved checkpoint; the one that reaches the end commits the manifest
 * if, and only if, the whole SHA-256 matched, under the session's precondition, through the same `commitCurrent` as
 * PUT. A lease (taken and renewed by compare-and-set on the session) lets one call work at a time; others answer
 * pending. Once completed, every call answers the same result; once failed, the same failure.
 *
 * Throws `upload_incomplete` (parts missing), `digest_mismatch` (the assembled object differs: nothing is committed,
 * the session is failed and its blob removed), `already_exists` / `precondition_failed` (the precondition failed at
 * commit), and `internal` (the store refused to assemble the parts: the session is open again).
 */
export async function completeUpload(deps: UploadDeps, session: UploadSession, context: CompleteContext): Promise<CompleteOutcome> {
  const holder = crypto.randomUUID();
  const leased = await takeLease(deps, session, holder);
  if ("done" in leased) return leased;
  let step: CommitStep;
  if (leased.state === "verifying") {
    const assembled = await assembleParts(deps, leased, context.requestId);
    if (!assembled) return settledOutcome(deps, leased);
    const deadlineMs = deps.clock() + COMPLETE_CALL_MS;
    const slice = await verifySlice(deps, assembled, holder, { sliceBytes: context.sliceBytes, deadlineMs, leaseMs: COMPLETE_LEASE_MS });
    if (slice.kind === "lost") return settledOutcome(deps, assembled);
    if (slice.kind === "more") return pending(slice.session, 0);
    if (slice.kind === "mismatch") return fail(deps, slice.session, new VerigateError("digest_mismatch", slice.detail, SHARE), context);
    step = await commitVerified(deps, slice.session, slice.digests, holder, COMPLETE_LEASE_MS);
  } else {
    step = await finishInterruptedCommit(deps, leased);
  }
  if (step.kind === "lost") return settledOutcome(deps, leased);
  if (step.kind === "refused") return fail(deps, step.session, step.error, context);
  const completed = await updateSession(deps.uploads, step.session, { state: "completed", result: putResponseBody(step.manifest), lease: null });
  return completed ? completedOutcome(completed) : settledOutcome(deps, step.session);
}

/**
 * The session with this call's lease, in state `verifying` or `committing`, or the answer when there is nothing for
 * this call to do: the result or failure of a settled session, or pending while another call holds the lease.
 */
async function takeLease(deps: UploadDeps, session: UploadSession, holder: string): Promise<UploadSession | CompleteOutcome> {
  for (let seen: UploadSession | null = session; seen; seen = await deps.uploads.get(session.id)) {
    if (seen.state === "completed") return completedOutcome(seen);
    if (seen.state === "failed") throw failureOf(seen);
    if (seen.lease && seen.lease.until_ms > deps.clock()) return pending(seen, BUSY_RETRY_SECONDS);
    if (seen.state === "open") await requireEveryPart(deps, seen);
    const lease = { holder, until_ms: deps.clock() + COMPLETE_LEASE_MS };
    const opening = seen.state === "open";
    const leased = await updateSession(deps.uploads, seen, opening ? { state: "verifying", lease, progress: NO_PROGRESS } : { lease });
    if (leased) return leased;
  }
  throw new VerigateError("not_found");
}

/** `upload_incomplete` unless every part from 1 to `part_count` is recorded at its size, naming the first that are not. */
async function requireEveryPart(deps: UploadDeps, session: UploadSession): Promise<void> {
  // A part with no ETag is an encrypted part's claim whose upload never finished (sealed-parts.ts): not stored.
  const stored = (await deps.uploads.listParts(session.id)).filter((part) => part.etag !== "");
  const recorded = new Map(stored.map((part) => [part.part, part.size]));
  const missing: number[] = [];
  for (let part = 1; part <= session.part_count && missing.length < MISSING_LISTED; part++) {
    if (recorded.get(part) !== partLength(session, part)) missing.push(part);
  }
  if (missing.length > 0)
    throw new VerigateError("upload_incomplete", `parts not stored: ${missing.join(", ")}${missing.length === MISSING_LISTED ? ", ..." : ""}`, SHARE);
}

/** The detail names this many missing parts at most: enough to resume, short enough for a log line. */
const MISSING_LISTED = 20;

/** Marks the session failed with `error` (nothing was committed), removes what it assembled, and throws `error`. */
async function fail(deps: UploadDeps, session: UploadSession, error: VerigateError, context: CompleteContext): Promise<never> {
  const failed = await updateSession(deps.uploads, session, { state: "failed", lease: null, failure: { code: error.code, detail: error.publicDetail ?? "" } });
  if (failed) await discardQuietly(deps, failed, context.requestId);
  throw error;
}

/** After losing a compare-and-set: whatever the session settled on, or pending while another call works on it. */
async function settledOutcome(deps: UploadDeps, session: UploadSession): Promise<CompleteOutcome> {
  const now = await deps.uploads.get(session.id);
  if (!now) throw new VerigateError("not_found");
  if (now.state === "completed") return completedOutcome(now);
  if (now.state === "failed") throw failureOf(now);
  return pending(now, BUSY_RETRY_SECONDS);
}

function completedOutcome(session: UploadSession): CompleteOutcome {
  return { done: true, body: session.result as PutResponseBody };
}

function pending(session: UploadSession, retryAfterSeconds: number): CompleteOutcome {
  return { done: false, body: { state: session.state, verified_bytes: verifiedBytes(session), size: session.size }, retryAfterSeconds };
}

/** The failure a failed session answers every complete with, as it answered the first. */
export function failureOf(session: UploadSession): VerigateError {
  const failure = session.failure ?? { code: "internal", detail: "" };
  return new VerigateError(failure.code as ErrorCode, failure.detail || undefined, SHARE);
}
