import { describeError } from "../log.ts";
import { readCurrent, versionKey } from "./manifest.ts";
import type { ObjectDeps } from "./deps.ts";
import { dropTombstone, tombstoneKey } from "./tombstone.ts";

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

/**
 * How long a tombstone outlives its DELETE. Every version committed before the delete has a record due within
 * GC_GRACE_MS of it (superseded earlier, or removed by the delete itself); a second grace period gives the
 * sweep four runs to retry those before the tombstone goes, and a run that saw a failure keeps it (see below).
 */
export const TOMBSTONE_LIFETIME_MS = 2 * GC_GRACE_MS;

/** Each record costs up to five storage and metadata calls; 100 stays well under a Workers invocation's subrequest cap. */
const SWEEP_MAX_RECORDS = 100;

const GC_PREFIX = "gc:";
/** Epoch milliseconds zero-padded so records list in due order; 15 digits last until the year 33658. */
const DUE_DIGITS = 15;

/** A blob that may become garbage: it is deleted once due unless `version` is then `key`'s current version. */
export interface BlobGarbage {
  key: string;
  version: string;
  blob: string;
}

/** A tombstone (tombstone.ts) to drop once due, unless a later DELETE of `key` replaced it. */
export interface TombstoneGarbage {
  key: string;
  deleted_at: string;
}

export type GarbageRecord = BlobGarbage | TombstoneGarbage;

export interface SweepResult {
  /** Records whose blob was deleted, or already gone. */
  collected: number;
  /** Records dropped because their version is still current. */
  kept: number;
  failed: number;
  /** Due tombstones left for the next run because a record failed earlier in this one. */
  deferred: number;
  /** True when due records were left for the next run because this one reached its budget. */
  more: boolean;
}

/** Writes the record and returns its metadata key. */
export async function scheduleGarbage(metadata: ObjectDeps["metadata"], dueMs: number, record: GarbageRecord): Promise<string> {
  const due = `${GC_PREFIX}${String(Math.ceil(dueMs)).padStart(DUE_DIGITS, "0")}:`;
  if ("blob" in record) {
    await metadata.put(due + record.blob, { key: record.key, version: record.version, blob: record.blob } satisfies BlobGarbage);
    return due + record.blob;
  }
  await metadata.put(due + tombstoneKey(record.key), { key: record.key, deleted_at: record.deleted_at } satisfies TombstoneGarbage);
  return due + tombstoneKey(record.key);
}

/**
 * Deletes the blobs (and version manifests) of records due at `nowMs`, oldest first; meant for a cron
 * trigger. A record whose version is still current is dropped without deleting anything: that is how a
 * committed upload's pending record ends, and why no crash between two metadata writes can lose live bytes.
 */
export async function sweepGarbage(deps: Pick<ObjectDeps, "storage" | "metadata" | "log">, nowMs: number): Promise<SweepResult> {
  const result: SweepResult = { collected: 0, kept: 0, failed: 0, deferred: 0, more: false };
  let cursor: string | undefined;
  do {
    const page = await deps.metadata.list(GC_PREFIX, { limit: SWEEP_MAX_RECORDS, ...(cursor ? { cursor } : {}) });
    for (const gcKey of page.keys) {
      if (dueOf(gcKey) > nowMs) return result;
      if (result.collected + result.kept + result.failed + result.deferred === SWEEP_MAX_RECORDS) {
        result.more = true;
        return result;
      }
      try {
        result[await collect(deps, gcKey, result.failed > 0)]++;
      } catch (error) {
        result.failed++;
        deps.log.log("warn", "gc_failed", { gc_key: gcKey, ...describeError(error) });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}

/**
 * A tombstone is dropped only by a run in which no record failed before it: a failed one may be the very version
 * the tombstone keeps links away from, whose `ver:` record would then outlive it.
 */
async function collect(deps: Pick<ObjectDeps, "storage" | "metadata">, gcKey: string, failedBefore: boolean): Promise<"collected" | "kept" | "deferred"> {
  const record = await deps.metadata.get<GarbageRecord>(gcKey);
  let outcome: "collected" | "kept" = "collected";
  if (record && !("blob" in record)) {
    if (failedBefore) return "deferred";
    await dropTombstone(deps.metadata, record.key, record.deleted_at);
  } else if (record) {
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
