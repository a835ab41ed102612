import { VerigateError } from "../errors/index.ts";
import type { ObjectDeps } from "./deps.ts";
import { GC_GRACE_MS, scheduleGarbage } from "./garbage.ts";
import { currentKey, type Manifest, readCurrent } from "./manifest.ts";

/**
 * Removes `key`'s current manifest and returns it; throws `not_found` when there is none. The blob and the
 * version manifest stay for GC_GRACE_MS so a reader that already holds the manifest still gets its bytes.
 */
export async function deleteObject(deps: Pick<ObjectDeps, "metadata" | "clock">, key: string): Promise<Manifest> {
  const current = await readCurrent(deps.metadata, key);
  if (!current) throw new VerigateError("not_found", "no current version");
  await scheduleGarbage(deps.metadata, deps.clock() + GC_GRACE_MS, current);
  await deps.metadata.delete(currentKey(key));
  return current;
}
