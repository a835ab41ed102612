import { SHA256_HEX } from "../../shared/crypto/encoding.ts";
import { createHash } from "node:crypto";
import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { VerigateIntegrityError, VerigateUsageError } from "../sdk/errors.ts";
import type { VerigateClient } from "../sdk/client.ts";
import type { ObjectIntegrity } from "../sdk/integrity.ts";
import { EXIT_INTERRUPTED } from "./exit-codes.ts";
import { readDirectState } from "./direct-state.ts";
import { hashFileInto } from "./file-hash.ts";
import { discard, keptLength, type PartialFiles, partialFilesOf } from "./partial-files.ts";
import { type BodySink, keepVerified, writeBody } from "./download.ts";
import { transferProgress } from "./progress.ts";

/**
 * What a partial download is of, in `<target>.partial.json` beside the bytes in `<target>.partial`. The bytes
 * themselves say how far the download got: they are written in order, so a killed process leaves a prefix of
 * the object, and nothing of them is trusted before the whole SHA-256 matched.
 */
interface PartialState {
  format: 1;
  endpoint: string;
  key: string;
  /** The version the kept bytes belong to, pinned with `If-Range` when resuming. */
  etag: string;
  sha256: string;
  size: number;
}

export interface Downloaded {
  integrity: ObjectIntegrity;
  /** Bytes kept from an earlier run and not fetched again; 0 for a download from the start. */
  resumedFrom: number;
}

const STATE_FORMAT = 1;

/**
 * `verigate get`: downloads `key` into `<target>.partial` and renames it to `target` only once the whole SHA-256
 * matched the object's `Repr-Digest`/`ETag`. A run that stops early (a cut response, Ctrl-C, a kill) leaves the
 * partial file; the next run continues it with a Range request pinned to its ETag by `If-Range`, hashing the kept
 * bytes and the new ones together. A changed object (the gateway answers 200 instead of 206) restarts from the
 * first byte; kept bytes that fail the whole check are discarded and the object is downloaded once more from the
 * start, so a corrupted partial file costs one download, never a wrong file.
 */
export async function downloadResumable(client: VerigateClient, key: string, target: string, warn: (text: string) => void): Promise<Downloaded> {
  const files = partialFilesOf(target);
  const kept = await keptDownload(files, client.endpoint, key, warn);
  if (kept !== null) {
    const read = await client.resumeObject(key, { offset: kept.offset, etag: kept.state.etag });
    if (!read.resumed) {
      warn(
        `verigate: ${key} changed since ${files.data} was started (${kept.state.etag}, now ${read.integrity.etag}); discarding it and downloading from the start`,
      );
      return { integrity: await receive(files, client.endpoint, key, read, 0), resumedFrom: 0 };
    }
    try {
      return { integrity: await receive(files, client.endpoint, key, read, kept.offset), resumedFrom: kept.offset };
    } catch (error) {
      if (!isMismatch(error)) throw error;
      warn(`verigate: the resumed download did not verify (${error.message}); discarded ${files.data}, downloading from the start`);
    }
  }
  return { integrity: await receive(files, client.endpoint, key, await client.getObject(key), 0), resumedFrom: 0 };
}

/**
 * Writes a response into the partial file from `offset` (the bytes before it already there) and renames it over
 * the target once verified. A mismatch removes the partial file; anything else (a cut, a network or disk error,
 * Ctrl-C) keeps it for the next run and says so.
 */
async function receive(
  files: PartialFiles,
  endpoint: string,
  key: string,
  read: { response: Response; integrity: ObjectIntegrity },
  offset: number,
): Promise<ObjectIntegrity> {
  const { integrity } = read;
  if (offset === 0) {
    const state: PartialState = { format: STATE_FORMAT, endpoint, key, etag: integrity.etag, sha256: integrity.sha256, size: integrity.size };
    // The state first, so a partial file never exists without what it is of; replaced whole by a rename.
    await writeFile(`${files.state}.tmp`, `${JSON.stringify(state)}\n`);
    await rename(`${files.state}.tmp`, files.state);
  }
  const file = await open(files.data, offset === 0 ? "w" : "r+");
  // No bar (a size of 0 shows none) while the kept bytes are hashed under their own.
  const sink: BodySink = { file, position: offset, hash: createHash("sha256"), progress: transferProgress("get", 0) };
  const keepOnSignal = () => {
    process.stderr.write(`\nverigate: interrupted; ${keptMessage(files, sink.position)}\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.once("SIGINT", keepOnSignal).once("SIGTERM", keepOnSignal);
  try {
    if (offset > 0) {
      await file.truncate(offset);
      await hashFileInto(sink.hash, files.data, { length: offset, progressSize: offset });
    }
    sink.progress = transferProgress("get", integrity.size);
    sink.progress.advance(offset);
    await writeBody(read.response.body, sink, integrity.size);
    await keepVerified(file, sink.hash, integrity, files.data, files.target);
    await rm(files.state, { force: true });
    return integrity;
  } catch (error) {
    await read.response.body?.cancel().catch(() => {});
    await file.close().catch(() => {});
    if (isMismatch(error)) {
      await discard(files);
      throw error;
    }
    if (error instanceof Error) error.message = `${error.message}; ${keptMessage(files, sink.position)}`;
    throw error;
  } finally {
    sink.progress.stop();
    process.off("SIGINT", keepOnSignal).off("SIGTERM", keepOnSignal);
  }
}

/**
 * The partial download of `key` from `endpoint` left at `files`, with where to continue it; null when there is
 * none. A partial file of another download (another object's, longer than its object) is removed, saying so; one
 * without a readable state is refused, as it may be anyone's.
 */
async function keptDownload(
  files: PartialFiles,
  endpoint: string,
  key: string,
  warn: (text: string) => void,
): Promise<{ state: PartialState; offset: number } | null> {
  const length = await keptLength(files);
  if (length === null) return null;
  const state = await readState(files.state);
  // Its chunks arrived out of order: not a prefix this download could continue, and too much to throw away unasked.
  if (state === null && (await readDirectState(files.state)) !== null) {
    throw new VerigateUsageError(`${files.data} is a direct download: continue it with \`verigate get --direct\`, or move it away`);
  }
  // The state is written before the bytes and removed after them: a partial file without one is none of ours.
  if (state === null) throw new VerigateUsageError(`${files.data} exists and is no download verigate can continue; move it away or choose another -o`);
  const usable = state.endpoint === endpoint && state.key === key && length <= state.size;
  if (!usable || length === 0) {
    if (length > 0) warn(`verigate: ${files.data} is not a download of ${key} from ${endpoint} that can be continued; discarding it`);
    await discard(files);
    return null;
  }
  // A complete file that was not yet renamed: the last byte is asked again, as a range must not be empty.
  return { state, offset: Math.min(length, state.size - 1) };
}

async function readState(path: string): Promise<PartialState | null> {
  let value: Partial<PartialState>;
  try {
    value = JSON.parse(await readFile(path, "utf8")) as Partial<PartialState>;
  } catch {
    return null;
  }
  const { format, endpoint, key, etag, sha256, size } = value;
  const wellFormed =
    format === STATE_FORMAT &&
    typeof endpoint === "string" &&
    typeof key === "string" &&
    typeof sha256 === "string" &&
    SHA256_HEX.test(sha256) &&
    etag === `"${sha256}"` &&
    Number.isSafeInteger(size) &&
    (size ?? -1) >= 0;
  return wellFormed ? (value as PartialState) : null;
}

/** Bytes that arrived whole and are not the object: kept bytes are not worth keeping after that. */
function isMismatch(error: unknown): error is VerigateIntegrityError {
  return error instanceof VerigateIntegrityError && (error.reason === "digest_mismatch" || error.reason === "size_mismatch");
}

function keptMessage(files: PartialFiles, bytes: number): string {
  return `${bytes} bytes kept in ${files.data}: run the same command again to resume`;
}
