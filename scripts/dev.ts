/**
 * `npm start`: the gateway on miniflare (wrangler dev) with state persisted under .wrangler/state.
 * The first run creates a dev admin key and the matching `.dev.vars`, so a fresh clone works in one command.
 * Arguments go to `wrangler dev` (`npm start -- --port 9000`); `--ip`, `--port` and `--persist-to` have
 * defaults here that an argument replaces.
 */
import { spawn } from "node:child_process";
import { devConfig } from "./dev-key.ts";

/** Where examples/whoami.ts looks when VERIGATE_ENDPOINT is unset. */
const EXAMPLE_ENDPOINT = "http://127.0.0.1:8787";

const args = process.argv.slice(2);
const defaults = new Map([
  ["--ip", "127.0.0.1"],
  ["--port", process.env.PORT ?? "8787"],
  ["--persist-to", ".wrangler/state"],
]);
// wrangler refuses an option given twice ("expects a single value"), so a default is added only when not given.
const added = [...defaults].filter(([option]) => optionValue(args, option) === undefined).flat();
const ip = optionValue(args, "--ip") ?? defaults.get("--ip");
const port = optionValue(args, "--port") ?? defaults.get("--port");
// A wildcard address listens on loopback too, and is no address to type into a browser.
const host = ip === "0.0.0.0" || ip === "::" ? "127.0.0.1" : ip?.includes(":") ? `[${ip}]` : ip;
const origin = `http://${host}:${port}`;

await devConfig(console.log);
console.log(`
Verigate is starting on ${origin}. Try, in another terminal:
  curl -s ${origin}/healthz
  ${origin === EXAMPLE_ENDPOINT ? "" : `VERIGATE_ENDPOINT=${origin} `}npx node examples/whoami.ts
`);

const child = spawn("wrangler", ["dev", ...added, ...args], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));

/** The value of `--name value` or `--name=value` in `args`, as wrangler's parser reads them. */
function optionValue(list: string[], name: string): string | undefined {
  for (const [index, arg] of list.entries()) {
    if (arg === name) return list[index + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}
