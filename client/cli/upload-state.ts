import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { configDirectory } from "./config-dir.ts";

/**
 * What a later `verigate put` of the same file needs to continue an upload session: no secret (the session is
 * usable only with the key that created it, which stays in its own file), and the file's identity when it began.
 */
export interface UploadState {
  format: 1;
  endpoint: string;
  key: string;
  /** Absolute. */
  file: string;
  size: number;
  mtime_ms: number;
  sha256: string;
  upload_id: string;
}

const STATE_FORMAT = 1;
/** Only its owner reads where their uploads go. */
const STATE_DIR_MODE = 0o700;
const STATE_FILE_MODE = 0o600;

/**
 * One state file per endpoint, object key and file path, so a rerun finds it whatever happened to the file; its size
 * and mtime inside say whether the file is still the one whose session it names (else that session is replaced).
 */
export function uploadStatePath(endpoint: string, key: string, file: string): string {
  const name = createHash("sha256").update(`${endpoint}\0${key}\0${file}`).digest("hex");
  return join(configDirectory(), "uploads", `${name}.json`);
}

/** The saved state, or null when there is none or it is unreadable (then the upload starts over). */
export async function readUploadState(path: string): Promise<UploadState | null> {
  try {
    const state = JSON.parse(await readFile(path, "utf8")) as Partial<UploadState>;
    const wellFormed =
      state.format === STATE_FORMAT &&
      typeof state.upload_id === "string" &&
      typeof state.sha256 === "string" &&
      Number.isSafeInteger(state.size) &&
      typeof state.mtime_ms === "number";
    return wellFormed ? (state as UploadState) : null;
  } catch {
    return null;
  }
}

/** Replaces the state whole (a rename), so a killed process leaves the old state or the new one. */
export async function saveUploadState(path: string, state: Omit<UploadState, "format">): Promise<void> {
  await mkdir(join(path, ".."), { recursive: true, mode: STATE_DIR_MODE });
  await writeFile(`${path}.tmp`, `${JSON.stringify({ format: STATE_FORMAT, ...state })}\n`, { mode: STATE_FILE_MODE });
  await rename(`${path}.tmp`, path);
}

export async function removeUploadState(path: string): Promise<void> {
  await rm(path, { force: true });
}
