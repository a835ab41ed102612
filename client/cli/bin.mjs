#!/usr/bin/env node
// The `verigate` command (package.json `bin`). The CLI is TypeScript run as is: Node strips types from files
// outside node_modules by default since 22.18, and behind a flag since 22.6, so older 22.x re-run with it.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (process.features.typescript) {
  // A reader that closed the pipe (`verigate ls | head -1`) wants no more output: that is no failure, and no
  // stack trace. Anything else stays an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error) => {
      if (error.code !== "EPIPE") throw error;
      process.exit(0);
    });
  }
  const { main } = await import("./main.ts");
  process.exitCode = await main(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    warn: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
  });
} else if (major > 22 || (major === 22 && minor >= 6)) {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", self, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exitCode = child.status ?? 4;
} else {
  process.stderr.write(`verigate needs Node 22.12 or later, this is ${process.version}; in the repository, npx uses the Node 22 of node_modules.\n`);
  process.exitCode = 1;
}
