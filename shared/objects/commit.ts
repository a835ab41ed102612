import type { SwapCondition, SwapResult } from "../metadata/index.ts";
import type { ObjectDeps } from "./deps.ts";
import { GC_GRACE_MS, scheduleGarbage } from "./garbage.ts";
import { currentKey, MANIFEST_TAG_FIELD, type Manifest } from "./manifest.ts";

/**
 * Makes `next` the current manifest of `key` (null: none) if `condition` holds at that moment, through the
 * metadata store's swap, and schedules the blob it replaced for collection. `expected` is the manifest the
 * caller last read: its record is written before the swap, so a crash right after the swap cannot leak that
 * blob (the sweep drops the record if the version is still current when due); the manifest the swap actually
 * replaced gets its own record when it was another one.
 */
export async function commitCurrent(
  deps: Pick<ObjectDeps, "metadata" | "clock">,
  key: string,
  next: Manifest | null,
  condition: SwapCondition,
  expected: Manifest | null,
): Promise<SwapResult<Manifest>> {
  const dueMs = deps.clock() + GC_GRACE_MS;
  if (expected) await scheduleGarbage(deps.metadata, dueMs, expected);
  const result = await deps.metadata.swap(currentKey(key), next, condition, MANIFEST_TAG_FIELD);
  if (result.done && result.previous && result.previous.version !== expected?.version) {
    await scheduleGarbage(deps.metadata, dueMs, result.previous);
  }
  return result;
}
