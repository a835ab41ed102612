import { spawnSync } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { VerigateUsageError } from "../sdk/errors.ts";

/** Private keys are for their owner alone. */
const KEY_FILE_MODE = 0o600;
/** A directory created for a key is its owner's alone too. */
const KEY_DIR_MODE = 0o700;

/**
 * Writes a private key file with mode 0600, creating its directory (0700) if needed. An existing file is
 * never overwritten: losing a key locks its owner out. Warns when git would commit the file.
 */
export async function writeKeyFile(path: string, jwk: object, warn: (text: string) => void): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: KEY_DIR_MODE });
  try {
    await writeFile(path, `${JSON.stringify(jwk, null, 2)}\n`, { mode: KEY_FILE_MODE, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new VerigateUsageError(`${path} exists; a key file is never overwritten`);
    throw error;
  }
  // The mode given at creation is reduced by the umask; set it exactly.
  await chmod(path, KEY_FILE_MODE);
  if (gitWouldCommit(path)) warn(`warning: ${path} is in a git work tree and not ignored; add it to .gitignore before a commit publishes the key`);
}

/** True when `path` lies in a git work tree that does not ignore it; false outside one, or without git. */
function gitWouldCommit(path: string): boolean {
  // check-ignore exits 0 for an ignored path, 1 for one git would add, 128 outside a work tree.
  return spawnSync("git", ["check-ignore", "-q", "--", basename(path)], { cwd: dirname(path), stdio: "ignore" }).status === 1;
}
