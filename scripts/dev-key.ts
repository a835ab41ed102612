import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { parseEnv } from "node:util";
import { type Ed25519PrivateJwk, generateEd25519Key } from "../client/sdk/keys.ts";
import { toBase64Url } from "../shared/crypto/encoding.ts";

const DEV_KEYID = "dev-admin";
const DEV_KEY_PATH = ".verigate/dev-admin.jwk";
const DEV_VARS_PATH = ".dev.vars";

/** Loads the local dev admin key, creating it (mode 0600: it is a private key) on first use. */
export async function ensureDevKey(path = DEV_KEY_PATH): Promise<{ jwk: Ed25519PrivateJwk; created: boolean }> {
  if (existsSync(path)) return { jwk: JSON.parse(await readFile(path, "utf8")) as Ed25519PrivateJwk, created: false };
  const { jwk } = await generateEd25519Key(DEV_KEYID);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return { jwk, created: true };
}

/** 32 random bytes: the minimum PRESIGN_SECRET length, so local links work like deployed ones. */
const DEV_PRESIGN_SECRET_BYTES = 32;

/** Writes `.dev.vars` with the dev key as the bootstrap admin and a random presign secret, unless one exists. */
async function ensureDevVars(jwk: Ed25519PrivateJwk, path = DEV_VARS_PATH): Promise<boolean> {
  if (existsSync(path)) return false;
  const presignSecret = toBase64Url(crypto.getRandomValues(new Uint8Array(DEV_PRESIGN_SECRET_BYTES)));
  const lines = ["# Local development only; created by npm start.", `ADMIN_KEYS="${jwk.kid}=${jwk.x}"`, `PRESIGN_SECRET="${presignSecret}"`];
  await writeFile(path, `${lines.join("\n")}\n`, { mode: 0o600 });
  return true;
}

/**
 * The local configuration `npm start` and `npm run start:aws-local` share: the dev admin key and `.dev.vars`,
 * each created on first use (`say` tells what was created), and the variables `.dev.vars` sets, read as
 * wrangler reads them.
 */
export async function devConfig(say: (line: string) => void): Promise<{ jwk: Ed25519PrivateJwk; vars: Record<string, string | undefined> }> {
  const { jwk, created } = await ensureDevKey();
  const wroteVars = await ensureDevVars(jwk);
  if (created) say(`Created the dev admin key ${jwk.kid} in ${DEV_KEY_PATH} (keep it private).`);
  if (wroteVars) say(`Wrote ${DEV_VARS_PATH} with ADMIN_KEYS=${jwk.kid}=${jwk.x} and a random PRESIGN_SECRET`);
  return { jwk, vars: parseEnv(await readFile(DEV_VARS_PATH, "utf8")) };
}
