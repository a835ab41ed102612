import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MUTANTS } from "../../mutate/mutants.ts";

/**
 * `npm run mutate` is not part of `npm test`, so a refactor or a formatter run that moves a mutant's snippet would
 * go unnoticed until someone ran it (Prettier's first run silently orphaned `soft-mode-refuses-replays`). Every
 * mutant must still apply: its snippet found exactly once in its file, its killing tests present.
 */
describe("mutate/mutants.ts follows the source", () => {
  it.each(MUTANTS.map((mutant) => [mutant.id, mutant] as const))("%s applies to its file exactly once", (_id, mutant) => {
    expect(readFileSync(mutant.file, "utf8").split(mutant.original)).toHaveLength(2);
    expect(mutant.replacement).not.toBe(mutant.original);
    for (const test of mutant.tests) expect(existsSync(test), test).toBe(true);
  });
});
