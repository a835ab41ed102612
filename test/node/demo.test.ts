import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

it("npm run demo: every step of the README tour behaves as it says", async () => {
  const { stdout } = await run(process.execPath, ["scripts/demo.ts"], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
  expect(stdout).toContain("Demo finished: every step behaved as described.");
  expect(stdout).not.toContain("UNEXPECTED");
}, 150_000);
