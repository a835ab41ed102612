/**
 * `npm start`: the gateway on miniflare (wrangler dev) with state persisted under .wrangler/state.
 * The first run creates a dev admin key and the matching `.dev.vars`, so a fresh clone works in one command.
 */
import { spawn } from "node:child_process";
import { DEV_KEY_PATH, DEV_VARS_PATH, ensureDevKey, ensureDevVars } from "./dev-key.ts";

const port = process.env.PORT ?? "8787";
const { jwk, created } = await ensureDevKey();
const wroteVars = await ensureDevVars(jwk);
if (created) console.log(`Created the dev admin key ${jwk.kid} in ${DEV_KEY_PATH} (keep it private).`);
if (wroteVars) console.log(`Wrote ${DEV_VARS_PATH} with ADMIN_KEYS=${jwk.kid}=${jwk.x} and a random PRESIGN_SECRET`);
console.log(`
Verigate is starting on http://127.0.0.1:${port}. Try, in another terminal:
  curl -s http://127.0.0.1:${port}/healthz
  npx node examples/whoami.ts
`);

const child = spawn("wrangler", ["dev", "--ip", "127.0.0.1", "--port", port, "--persist-to", ".wrangler/state", ...process.argv.slice(2)], {
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
