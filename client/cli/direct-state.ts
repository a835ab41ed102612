import { SHA256_HEX } from "../../shared/crypto/encoding.ts";
import { readFile, rename, writeFile } from "node:fs/promises";

/**
 * What a direct download is of, in `<target>.partial.json` beside the bytes in `<target>.partial` (the names
 * `verigate get` uses for a streamed download too). Unlike a streamed one, the bytes arrive out of order, so the
 * state says which chunks are on disk: each was verified against the gateway's digest before it was written, and
 * the whole SHA-256 is checked again at the end, so a state that lies (a crash between write and rename, an edit)
 * costs a download, never a wrong file.
 */
export interface DirectState {
  format: typeof DIRECT_STATE_FORMAT;
  mode: "direct";
  endpoint: string;
  key: string;
  version: string;
  size: number;
  sha256: string;
  chunk_size: number;
  /** One bit per chunk, chunk i at bit (i % 8) of byte i / 8, base64: a 2 GiB object of 64 KiB chunks takes 4 KiB. */
  done: string;
}

/** Not the streamed download's format 1, whose reader refuses it rather than mistaking out-of-order bytes for a prefix. */
export const DIRECT_STATE_FORMAT = 2;

/** The chunks of a direct download that are on disk, verified. */
export class ChunkBitmap {
  readonly #bits: Uint8Array;
  readonly count: number;

  constructor(count: number, bits?: Uint8Array) {
    this.count = count;
    this.#bits = bits ?? new Uint8Array(Math.ceil(count / 8));
  }

  static fromBase64(count: number, text: string): ChunkBitmap | null {
    const bits = new Uint8Array(Buffer.from(text, "base64"));
    return bits.length === Math.ceil(count / 8) ? new ChunkBitmap(count, bits) : null;
  }

  has(index: number): boolean {
    return ((this.#bits[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
  }

  add(index: number): void {
    this.#bits[index >> 3] = (this.#bits[index >> 3] ?? 0) | (1 << (index & 7));
  }

  doneCount(): number {
    let done = 0;
    for (let index = 0; index < this.count; index++) if (this.has(index)) done++;
    return done;
  }

  toBase64(): string {
    return Buffer.from(this.#bits).toString("base64");
  }
}

/** The saved state with its bitmap, or null when there is none, or it is not a direct download's (format 1 is a streamed one's). */
export async function readDirectState(path: string): Promise<{ state: DirectState; done: ChunkBitmap } | null> {
  let value: Partial<DirectState>;
  try {
    value = JSON.parse(await readFile(path, "utf8")) as Partial<DirectState>;
  } catch {
    return null;
  }
  const { format, mode, endpoint, key, version, size, sha256, chunk_size: chunkSize, done } = value;
  const wellFormed =
    format === DIRECT_STATE_FORMAT &&
    mode === "direct" &&
    typeof endpoint === "string" &&
    typeof key === "string" &&
    typeof version === "string" &&
    typeof sha256 === "string" &&
    SHA256_HEX.test(sha256) &&
    Number.isSafeInteger(size) &&
    (size ?? -1) >= 0 &&
    Number.isSafeInteger(chunkSize) &&
    (chunkSize ?? 0) > 0 &&
    typeof done === "string";
  if (!wellFormed) return null;
  const bitmap = ChunkBitmap.fromBase64(chunkCount(size as number, chunkSize as number), done);
  return bitmap === null ? null : { state: value as DirectState, done: bitmap };
}

/** Replaces the state whole (a rename), so a killed process leaves the previous state or this one. */
export async function saveDirectState(path: string, state: Omit<DirectState, "format" | "mode" | "done">, done: ChunkBitmap): Promise<void> {
  const value: DirectState = { format: DIRECT_STATE_FORMAT, mode: "direct", ...state, done: done.toBase64() };
  await writeFile(`${path}.tmp`, `${JSON.stringify(value)}\n`);
  await rename(`${path}.tmp`, path);
}

export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}
