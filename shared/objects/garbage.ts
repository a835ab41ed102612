import { describeError } from "../log.ts";
import type { ObjectStorage } from "../storage/index.ts";
import { type DigestTree, treePageKeys } from "./digest-tree.ts";
import { type Manifest, readCurrentUnverified, versionKey } from "./manifest.ts";
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
/**
 * Digest tree pages a run may delete, on top of the records' own calls: with them a run stays under the 1,000
 * calls a Workers invocation may make to R2 and KV. A 5 TiB object of 64 KiB chunks has 82,001 pages, so its record
 * is collected over many runs, resuming where the last stopped (`TreeGarbage.deleted`).
 */
const SWEEP_MAX_PAGE_DELETES = 400;
/** Page deletes in flight at once: enough to hide a store's latency, few enough to stay polite. */
const PAGE_DELETE_CONCURRENCY = 16;

const GC_PREFIX = "gc:";
/** Epoch milliseconds zero-padded so records list in due order; 15 digits last until the year 33658. */
const DUE_DIGITS = 15;

/**
 * A blob that may become garbage: it is deleted once due, with its digest tree pages, unless `version` is then
 * `key`'s current version.
 */
export interface BlobGarbage {
  key: string;
  version: string;
  blob: string;
  tree?: TreeGarbage;
}

/** The pages of a digest tree to delete (`treePageKeys`), and how many of them earlier sweep runs deleted already. */
export interface TreeGarbage extends Pick<DigestTree, "pages" | "fanout"> {
  chunk_count: number;
  deleted?: number;
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
  /** Digest tree pages deleted, of those records and of ones left part way for the next run. */
  tree_pages: number;
  /** Records dropped because their version is still current. */
  kept: number;
  failed: number;
  /** Due tombstones left for the next run because a record failed earlier in this one. */
  deferred: number;
  /** True when due records were left for the next run because this one reached its budget. */
  more: boolean;
}

/**
 * Writes the record and returns its metadata key. A manifest stands for the record of its blob and tree: what a
 * superseded or deleted version leaves behind.
 */
export async function scheduleGarbage(metadata: ObjectDeps["metadata"], dueMs: number, record: GarbageRecord | Manifest): Promise<string> {
  const due = `${GC_PREFIX}${String(Math.ceil(dueMs)).padStart(DUE_DIGITS, "0")}:`;
  if ("blob" in record) {
    const tree = "chunk_size" in record ? record.tree && treeGarbage(record.tree, Math.ceil(record.size / record.chunk_size)) : record.tree;
    await metadata.put(due + record.blob, { key: record.key, version: record.version, blob: record.blob, ...(tree ? { tree } : {}) } satisfies BlobGarbage);
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
  const result: SweepResult = { collected: 0, tree_pages: 0, kept: 0, failed: 0, deferred: 0, more: false };
  const budget: SweepBudget = { pageDeletes: SWEEP_MAX_PAGE_DELETES, pagesDeleted: 0 };
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
        const outcome = await collect(deps, gcKey, { failedBefore: result.failed > 0, budget });
        if (outcome === "unfinished") result.more = true;
        else result[outcome]++;
      } catch (error) {
        result.failed++;
        deps.log.log("warn", "gc_failed", { gc_key: gcKey, ...describeError(error) });
      }
      result.tree_pages = budget.pagesDeleted;
      if (result.more) return result;
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}

/** What one run may still spend, shared by the records it collects. */
export interface SweepBudget {
  pageDeletes: number;
  pagesDeleted: number;
}

export interface CollectContext {
  /** A record failed earlier in this run. */
  failedBefore: boolean;
  budget: SweepBudget;
}

/**
 * What became of a record: its garbage deleted, its version found current (nothing deleted), left for a later run
 * (`deferred`: a tombstone after a failure; `unfinished`: tree pages left once the run's budget was spent, the
 * record updated to resume there and the run ended). Only `collected` and `kept` remove the record.
 */
export type CollectOutcome = "collected" | "kept" | "deferred" | "unfinished";

async function collect(deps: Pick<ObjectDeps, "storage" | "metadata">, gcKey: string, context: CollectContext): Promise<CollectOutcome> {
  const record = await deps.metadata.get<GarbageRecord>(gcKey);
  const outcome = record ? await collectRecord(deps, gcKey, record, context) : "collected";
  if (outcome === "collected" || outcome === "kept") await deps.metadata.delete(gcKey);
  return outcome;
}

/** One branch per record kind; a new kind adds its type to `GarbageRecord` and its branch here. */
function collectRecord(deps: Pick<ObjectDeps, "storage" | "metadata">, gcKey: string, record: GarbageRecord, context: CollectContext): Promise<CollectOutcome> {
  if ("blob" in record) return collectBlob(deps, gcKey, record, context);
  return collectTombstone(deps, record, context);
}

/**
 * A tombstone is dropped only by a run in which no record failed before it: a failed one may be the very version
 * the tombstone keeps links away from, whose `ver:` record would then outlive it.
 */
async function collectTombstone(deps: Pick<ObjectDeps, "metadata">, record: TombstoneGarbage, context: CollectContext): Promise<CollectOutcome> {
  if (context.failedBefore) return "deferred";
  await dropTombstone(deps.metadata, record.key, record.deleted_at);
  return "collected";
}

/** Tree pages first, then the blob and `ver:`: a run that stops part way leaves the record, and with it the means to finish. */
async function collectBlob(
  deps: Pick<ObjectDeps, "storage" | "metadata">,
  gcKey: string,
  record: BlobGarbage,
  context: CollectContext,
): Promise<CollectOutcome> {
  const current = await readCurrentUnverified(deps.metadata, record.key);
  if (current?.version === record.version) return "kept";
  if (record.tree) {
    const left = await deleteTreePages(deps.storage, record.tree, context.budget);
    if (left) {
      await deps.metadata.put(gcKey, { ...record, tree: left } satisfies BlobGarbage);
      return "unfinished";
    }
  }
  await deps.storage.delete(record.blob);
  await deps.metadata.delete(versionKey(record.version));
  return "collected";
}

/** The tree part of a gc record: none when the digests were inline (at most `fanout` chunks, so no page). */
export function treeGarbage(tree: Pick<DigestTree, "pages" | "fanout">, chunkCount: number): TreeGarbage | undefined {
  return chunkCount > tree.fanout ? { pages: tree.pages, fanout: tree.fanout, chunk_count: chunkCount } : undefined;
}

/**
 * Deletes the pages of `tree` not deleted yet, within `budget` when given; returns null once none is left, or the
 * progress to save. Deleting a page that is not there succeeds, so a failed upload's partial tree goes the same way.
 */
export async function deleteTreePages(storage: ObjectStorage, tree: TreeGarbage, budget?: SweepBudget): Promise<TreeGarbage | null> {
  const keys = treePageKeys(tree, tree.chunk_count);
  let deleted = tree.deleted ?? 0;
  while (deleted < keys.length) {
    const allowed = Math.min(PAGE_DELETE_CONCURRENCY, keys.length - deleted, budget?.pageDeletes ?? Infinity);
    if (allowed <= 0) return { ...tree, deleted };
    await Promise.all(keys.slice(deleted, deleted + allowed).map((key) => storage.delete(key)));
    deleted += allowed;
    if (budget) {
      budget.pageDeletes -= allowed;
      budget.pagesDeleted += allowed;
    }
  }
  return null;
}

function dueOf(gcKey: string): number {
  return Number(gcKey.slice(GC_PREFIX.length, GC_PREFIX.length + DUE_DIGITS));
}
