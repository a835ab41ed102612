// Restores package-lock.json entries for workerd's macOS and Windows builds after an `npm install` here.
// This machine's registry mirror lacks those packages, so npm drops them from the lock, and `npm ci` then
// refuses the lock as out of sync. The entries only need to exist: npm skips them on Linux without a fetch.
// Plain .mjs so the system Node runs it too: `node scripts/lock-platforms.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const PLATFORMS = [
  ["workerd-darwin-64", "x64", "darwin"],
  ["workerd-darwin-arm64", "arm64", "darwin"],
  ["workerd-windows-64", "x64", "win32"],
];
const LINUX_BUILD = "@cloudflare/workerd-linux-64";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  if (!path.endsWith(LINUX_BUILD)) continue;
  const base = path.slice(0, -"workerd-linux-64".length);
  for (const [name, cpu, os] of PLATFORMS) {
    if (packages[base + name]) continue;
    packages[base + name] = { version: entry.version, cpu: [cpu], dev: true, license: entry.license, optional: true, os: [os], engines: entry.engines };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: ${added} entr${added === 1 ? "y" : "ies"} added`);
