import type { ConfigProblem } from "./problems.ts";
import type { Settings } from "./variables.ts";

/** The bindings a Workers deployment must declare, each with the problem its absence is: never a guess. */
const REQUIRED_BINDINGS = {
  OBJECTS: "missing_binding_objects",
  META: "missing_binding_meta",
  REPLAY: "missing_binding_replay",
  // Without it, conditional writes would fall back to KV's read-compare-write.
  COMMITS: "missing_binding_commits",
  // Upload sessions need a strongly consistent record per session; KV's eventual reads would lose parts.
  UPLOADS: "missing_binding_uploads",
  // Git LFS locks need one strongly consistent owner per path; KV's eventual reads would let two clients lock it.
  LFS_LOCKS: "missing_binding_lfs_locks",
} as const satisfies Record<string, ConfigProblem>;

export type WorkersBinding = keyof typeof REQUIRED_BINDINGS;

export const WORKERS_BINDINGS = Object.keys(REQUIRED_BINDINGS) as readonly WorkersBinding[];

/** What the Workers runtime adds to the variables' checks, given the names of the bindings the entry file found. */
export function workersProblems(settings: Settings, presentBindings: readonly string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = WORKERS_BINDINGS.filter((name) => !presentBindings.includes(name)).map((name) => REQUIRED_BINDINGS[name]);
  if (settings.replayStore === "dynamodb") problems.push("replay_store_unsupported_on_workers");
  return problems;
}
