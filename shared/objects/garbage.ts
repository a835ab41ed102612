import { describeError } from "../log.ts";
import { readCurrent, versionKey } from "./manifest.ts";
import type { ObjectDeps } from "./deps.ts";

/**
 * How long a superseded or deleted blob outlives its manifest. KV takes up to about 60 s to show a new
 * manifest everywhere, and a download that began on the old one keeps reading its blob; an hour covers both.
 */
export const GC_GRACE_MS = 60 * 60 * 1000;

/**
 * The longest an upload may stream before it must commit: 5 GiB (R2's single-put cap) at about 250 kB/s.
 * An upload past it is refused before commit, so its pending record can never sweep a blob under a live manifest.
 */
export const MAX_UPLOAD_DURATION_MS = 6 * 60 * 60 * 1000;

/** Each record costs up to five storage and metadata calls; 100 stays well under a Workers invocation's subrequest cap. */
const SWEEP_MAX_RECORDS = 100;

const GC_PREFIX = "gc:";
/** Epoch milliseconds zero-padded so records list in due order; 15 digits last until the year 33658. */
const DUE_DIGITS = 15;

/** A blob that may become garbage: it is deleted once due unless `version` is then `key`'s current version. */
export interface GarbageRecord {
  key: string;
  version: string;
  blob: string;
}

export interface SweepResult {
  /** Records whose blob was deleted, or already gone. */
  collected: number;
  /** Records dropped because their version is still current. */
  kept: number;
  failed: number;
  /** True when due records were left for the next run because this one reached its budget. */
  more: boolean;
}

/** Writes the record and returns its metadata key. */
export async function scheduleGarbage(
  metadata: ObjectDeps["metadata"],
  dueMs: number,
  record: GarbageRecord,
): Promise<string> {
  const gcKey = `${GC_PREFIX}${String(Math.ceil(dueMs)).padStart(DUE_DIGITS, "0")}:${record.blob}`;
  await metadata.put(gcKey, { key: record.key, version: record.version, blob: record.blob } satisfies GarbageRecord);
  return gcKey;
}

/**
 * Deletes the blobs (and version manifests) of records due at `nowMs`, oldest first; meant for a cron
 * trigger. A record whose version is still current is dropped without deleting anything: that is how a
 * committed upload's pending record ends, and why no crash between two metadata writes can lose live bytes.
 */
export async function sweepGarbage(deps: Pick<ObjectDeps, "storage" | "metadata" | "log">, nowMs: number): Promise<SweepResult> {
  const result: SweepResult = { collected: 0, kept: 0, failed: 0, more: false };
  let cursor: string | undefined;
  do {
    const page = await deps.metadata.list(GC_PREFIX, { limit: SWEEP_MAX_RECORDS, ...(cursor ? { cursor } : {}) });
    for (const gcKey of page.keys) {
      if (dueOf(gcKey) > nowMs) return result;
      if (result.collected + result.kept + result.failed === SWEEP_MAX_RECORDS) {
        result.more = true;
        return result;
      }
      try {
        result[await collect(deps, gcKey)]++;
      } catch (error) {
        result.failed++;
        deps.log.log("warn", "gc_failed", { gc_key: gcKey, ...describeError(error) });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}

async function collect(deps: Pick<ObjectDeps, "storage" | "metadata">, gcKey: string): Promise<"collected" | "kept"> {
  const record = await deps.metadata.get<GarbageRecord>(gcKey);
  let outcome: "collected" | "kept" = "collected";
  if (record) {
    const current = await readCurrent(deps.metadata, record.key);
    if (current?.version === record.version) outcome = "kept";
    else {
      await deps.storage.delete(record.blob);
      await deps.metadata.delete(versionKey(record.version));
    }
  }
  await deps.metadata.delete(gcKey);
  return outcome;
}

function dueOf(gcKey: string): number {
  return Number(gcKey.slice(GC_PREFIX.length, GC_PREFIX.length + DUE_DIGITS));
}
