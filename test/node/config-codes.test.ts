import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { CONFIG_PROBLEMS, CONFIG_WARNINGS } from "../../shared/config/problems.ts";

const PROTOCOL = new URL("../../docs/PROTOCOL.md", import.meta.url);

/** The codes in the first column of section 6's tables (its problems and its warnings). */
async function documentedCodes(): Promise<string[]> {
  const text = await readFile(PROTOCOL, "utf8");
  const section = text.slice(text.indexOf("## 6. Health"), text.indexOf("## 7. Configuration"));
  const firstCells = section.split("\n").flatMap((line) => (/^\| `/.test(line) ? [line.split("|")[1] ?? ""] : []));
  return firstCells.flatMap((cell) => [...cell.matchAll(/`([a-z0-9_]+)`/g)].map((match) => match[1] ?? ""));
}

it("docs/PROTOCOL.md section 6 lists exactly the problem and warning codes of shared/config", async () => {
  expect((await documentedCodes()).sort()).toEqual([...CONFIG_PROBLEMS, ...CONFIG_WARNINGS].sort());
});
