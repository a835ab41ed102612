import { SHARE, VerigateError } from "../errors/index.ts";
import type { SwapCondition } from "../metadata/index.ts";
import { ifMatchHolds } from "./entity-tags.ts";
import type { Manifest } from "./manifest.ts";

/** A write's precondition headers: PUT's, and an upload session's (given at create, enforced at complete). */
export interface WritePrecondition {
  /** `If-None-Match: *` was sent. */
  ifNoneMatch?: boolean | undefined;
  /** The raw `If-Match` header. */
  ifMatch?: string | undefined;
}

/**
 * The condition the commit swaps under, or the refusal when `current` already fails it. If-Match compares
 * ETags, and a list of them or `*` is narrowed to the tag that matched: a writer that lands between this read
 * and the commit changes the tag, and the commit is refused even if its new tag is also listed (a 412 the client
 * can retry, never a lost update).
 */
export function commitCondition(input: WritePrecondition, current: Manifest | null): SwapCondition {
  if (input.ifNoneMatch && current) throw refusal({ kind: "absent" }, "the key exists");
  if (input.ifMatch !== undefined && !ifMatchHolds(input.ifMatch, current)) {
    throw refusal({ kind: "present" }, "If-Match does not name the current version");
  }
  if (input.ifNoneMatch) return { kind: "absent" };
  if (input.ifMatch === undefined || !current) return { kind: "any" };
  return input.ifMatch.trim() === "*" ? { kind: "present" } : { kind: "tag", tag: current.sha256 };
}

/** `already_exists` when the key had to be free (If-None-Match: *), `precondition_failed` for If-Match. */
export function refusal(condition: SwapCondition, detail: string): VerigateError {
  return condition.kind === "absent"
    ? new VerigateError("already_exists", `If-None-Match: *: an object exists at this key`, SHARE)
    : new VerigateError("precondition_failed", detail, SHARE);
}
