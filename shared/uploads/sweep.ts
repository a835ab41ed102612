import { describeError } from "../log.ts";
import type { MetadataStore } from "../metadata/index.ts";
import { GC_GRACE_MS } from "../objects/garbage.ts";
import { closeSession, releaseSession } from "./close.ts";
import type { UploadDeps } from "./deps.ts";
import type { UploadSession } from "./store.ts";

/** Metadata prefix of session sweep records (docs/STORAGE.md); apart from `gc:` because they need the session store. */
const SESSION_GC_PREFIX = "gcu:";
/** Epoch milliseconds zero-padded so records list in due order, as `gc:` records do. */
const DUE_DIGITS = 15;
/**
 * A record costs a session read and write, an abort, and a delete per tree page written (about 5 per TiB verified at
 * 1 MiB chunks... more at 1 KiB pages of a large object): 20 keeps a run well inside a Workers invocation's subrequests.
 */
const SESSION_SWEEP_MAX_RECORDS = 20;

/** What the sweep needs even when the session is gone: the store's upload to abort. */
export interface SessionSweepRecord {
  upload: string;
  blob: string;
  storage_upload_id: string;
}

export interface SessionSweepResult {
  swept: number;
  failed: number;
  /** True when due records were left for the next run because this one reached its budget. */
  more: boolean;
}

/** What a complete racing the sweep answers: the session is gone, as it is for every later request. */
const EXPIRED = { code: "not_found", detail: "the upload session expired" };

/** Writes the record that removes the session once it expired and a grace period passed (requests in flight end first). */
export async function scheduleSessionSweep(metadata: MetadataStore, expiresMs: number, session: UploadSession): Promise<void> {
  const due = String(Math.ceil(expiresMs + GC_GRACE_MS)).padStart(DUE_DIGITS, "0");
  const record: SessionSweepRecord = { upload: session.id, blob: session.blob, storage_upload_id: session.storage_upload_id };
  await metadata.put(`${SESSION_GC_PREFIX}${due}:${session.id}`, record);
}

/**
 * Removes the sessions due at `nowMs`, oldest first, whatever state they reached: a completed one loses only its
 * session record (its blob is the object's now); any other is closed (a complete still working loses its lease),
 * its multipart upload aborted, what it assembled removed, and the session deleted. A failed record stays for the next run.
 */
export async function sweepUploadSessions(
  deps: Pick<UploadDeps, "uploads" | "storage" | "metadata" | "clock" | "log">,
  nowMs: number,
): Promise<SessionSweepResult> {
  const result: SessionSweepResult = { swept: 0, failed: 0, more: false };
  let cursor: string | undefined;
  do {
    const page = await deps.metadata.list(SESSION_GC_PREFIX, { limit: SESSION_SWEEP_MAX_RECORDS, ...(cursor ? { cursor } : {}) });
    for (const gcKey of page.keys) {
      if (Number(gcKey.slice(SESSION_GC_PREFIX.length, SESSION_GC_PREFIX.length + DUE_DIGITS)) > nowMs) return result;
      if (result.swept + result.failed === SESSION_SWEEP_MAX_RECORDS) {
        result.more = true;
        return result;
      }
      try {
        await sweepSession(deps, gcKey);
        result.swept++;
      } catch (error) {
        result.failed++;
        deps.log.log("warn", "upload_sweep_failed", { gc_key: gcKey, ...describeError(error) });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}

async function sweepSession(deps: Pick<UploadDeps, "uploads" | "storage" | "metadata" | "clock">, gcKey: string): Promise<void> {
  const record = await deps.metadata.get<SessionSweepRecord>(gcKey);
  const session = record && (await deps.uploads.get(record.upload));
  const closed = session && (await closeSession(deps, session, EXPIRED));
  if (closed?.state === "completed") {
    await deps.uploads.delete(closed.id);
  } else if (closed) {
    await releaseSession(deps, closed);
  } else if (record) {
    // The session never got written, or an abort removed it after releasing everything: only the upload may be left.
    await deps.storage.multipart.abort(record.blob, record.storage_upload_id);
  }
  await deps.metadata.delete(gcKey);
}
