import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { VERSION } from "../../shared/version.ts";

it("reports in /healthz the version package.json declares", async () => {
  const pkg = JSON.parse(await readFile("package.json", "utf8")) as { version: string };
  expect(VERSION).toBe(pkg.version);
});
