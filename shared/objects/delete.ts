import { VerigateError } from "../errors/index.ts";
import { commitCurrent } from "./commit.ts";
import type { ObjectDeps } from "./deps.ts";
import { type Manifest, readCurrent } from "./manifest.ts";

/**
 * Removes `key`'s current manifest and returns it; throws `not_found` when there is none. The blob and the
 * version manifest stay for GC_GRACE_MS so a reader that already holds the manifest still gets its bytes.
 */
export async function deleteObject(deps: Pick<ObjectDeps, "metadata" | "clock">, key: string): Promise<Manifest> {
  const expected = await readCurrent(deps.metadata, key);
  if (!expected) throw new VerigateError("not_found", "no current version");
  const removed = await commitCurrent(deps, key, null, { kind: "present" }, expected);
  if (!removed.done || !removed.previous) throw new VerigateError("not_found", "deleted meanwhile");
  return removed.previous;
}
