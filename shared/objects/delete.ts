import { VerigateError } from "../errors/index.ts";
import { commitCurrent } from "./commit.ts";
import type { ObjectDeps } from "./deps.ts";
import { scheduleGarbage, TOMBSTONE_LIFETIME_MS } from "./garbage.ts";
import { type Manifest, readCurrent } from "./manifest.ts";
import { writeTombstone } from "./tombstone.ts";

/**
 * Removes `key`'s current manifest and returns it; throws `not_found` when there is none. The blob and the
 * version manifest stay for GC_GRACE_MS so a reader that already holds the manifest still gets its bytes,
 * while the tombstone written first stops every link to the key's versions (tombstone.ts).
 *
 * Order: the tombstone's removal is scheduled, then the tombstone written, then the manifest removed, so a
 * crash in between leaves links refused (fail closed) and no tombstone without its removal.
 */
export async function deleteObject(deps: Pick<ObjectDeps, "metadata" | "clock" | "log" | "config">, key: string): Promise<Manifest> {
  const expected = await readCurrent(deps, key);
  if (!expected) throw new VerigateError("not_found", "no current version");
  const nowMs = deps.clock();
  const tombstone = { key, deleted_at: new Date(nowMs).toISOString() };
  await scheduleGarbage(deps.metadata, nowMs + TOMBSTONE_LIFETIME_MS, tombstone);
  await writeTombstone(deps.metadata, tombstone);
  const removed = await commitCurrent(deps, key, null, { kind: "present" }, expected);
  if (!removed.done || !removed.previous) throw new VerigateError("not_found", "deleted meanwhile");
  return removed.previous;
}
