import { SHA256_HEX } from "../../shared/crypto/encoding.ts";
import { createHash } from "node:crypto";
import { type FileHandle, open, rm, stat } from "node:fs/promises";
import { MIB } from "../../shared/bytes.ts";
import type { VerigateClient } from "../sdk/client.ts";
import { VerigateApiError, VerigateIntegrityError, VerigateUsageError } from "../sdk/errors.ts";
import type { DownloadPlan } from "../sdk/types.ts";
import { ChunkBitmap, chunkCount, readDirectState, saveDirectState } from "./direct-state.ts";
import { keepVerified } from "./download.ts";
import { EXIT_INTERRUPTED } from "./exit-codes.ts";
import { hashFileInto } from "./file-hash.ts";
import { discard, keptLength, type PartialFiles, partialFilesOf } from "./partial-files.ts";
import { type Progress, transferProgress } from "./progress.ts";
import { StorageRanges, storageRefusal } from "./storage-range.ts";

/** Bytes asked of storage in one Range request: few requests per GiB, and parallel x this is all the memory held. */
const RANGE_TARGET_BYTES = 8 * MIB;
/** A range is tried this many times when the failure may pass (network, a cut body, 5xx); a refused URL is not counted. */
const RANGE_ATTEMPTS = 4;
const RETRY_BACKOFF_MS = 500;
/**
 * What storage answers a presigned URL past its expiry (S3: `AccessDenied`, "Request has expired"): the range is
 * asked again at once with the URL of a fresh plan. Refused again with that URL, it is final: storage does not take
 * the gateway's URLs at all (its credentials, or its clock), and asking more would loop.
 */
const STORAGE_FORBIDDEN = 403;

export interface DirectDownloadOptions {
  /** Ranges in flight, and in memory, at once. */
  parallel: number;
  warn: (text: string) => void;
  /** A progress bar on stderr (when it is a terminal); off for a caller that measures. */
  progress?: boolean;
}

export interface DirectDownloaded {
  key: string;
  version: string;
  size: number;
  sha256: string;
  /** Chunks found verified on disk from an earlier run and not fetched again. */
  resumedChunks: number;
  chunkCount: number;
}

/** Consecutive chunks asked in one Range request, with the digests they must match and the window whose URL serves them. */
interface ChunkRange {
  firstChunk: number;
  digests: string[];
  start: number;
  end: number;
  window: WindowUrl;
}

/** The storage URL a window's ranges are fetched with; replaced, once for all of them, when storage refuses it. */
interface WindowUrl {
  url: string;
  /** The fresh plan being asked for, which every range refused with the same URL waits for. */
  refreshing?: Promise<void>;
}

interface Run {
  client: VerigateClient;
  key: string;
  files: PartialFiles;
  first: DownloadPlan;
  done: ChunkBitmap;
  file: FileHandle;
  progress: Progress;
  shownSize: number;
  storage: StorageRanges;
  signal: AbortSignal;
}

/**
 * `verigate get --direct`: the object's bytes straight from storage through the presigned URLs of direct download
 * plans (PROTOCOL "Direct download plans"), `parallel` Range requests at a time. Every chunk is checked against the
 * digest the gateway gave over the signed API before it is written at its offset in `<target>.partial`; a chunk that
 * does not match stops the download at once, naming its index, and removes the partial file and its state. A cut,
 * a network failure, Ctrl-C or a kill keeps both: the next run asks the same version and fetches only the chunks not
 * yet on disk (another current version starts over). The file is renamed to `target` only once the whole SHA-256
 * matched as well.
 */
export async function downloadDirect(client: VerigateClient, key: string, target: string, options: DirectDownloadOptions): Promise<DirectDownloaded> {
  if (!Number.isSafeInteger(options.parallel) || options.parallel < 1) throw new VerigateUsageError("--parallel must be a whole number, at least 1");
  const files = partialFilesOf(target);
  const first = await client.planDownload(key);
  const kept = await keptChunks(files, client.endpoint, first, options.warn);
  try {
    return await downloadVersion(client, files, first, kept, options);
  } catch (error) {
    if (kept === null || !(error instanceof WholeMismatch)) throw error;
    // Every chunk written was verified; kept bytes that fail the whole check were changed on disk since.
    options.warn(`verigate: the resumed download did not verify (${error.message}); discarded ${files.data}, downloading from the start`);
    return downloadVersion(client, files, first, null, options);
  }
}

/** The whole SHA-256 failed over chunks that each matched: bytes on disk changed between the write and the check. */
class WholeMismatch extends VerigateIntegrityError {}

async function downloadVersion(
  client: VerigateClient,
  files: PartialFiles,
  first: DownloadPlan,
  kept: ChunkBitmap | null,
  options: DirectDownloadOptions,
): Promise<DirectDownloaded> {
  const count = chunkCount(first.size, first.chunk_size);
  const done = kept ?? new ChunkBitmap(count);
  const facts = { endpoint: client.endpoint, key: first.key, version: first.version, size: first.size, sha256: first.sha256, chunk_size: first.chunk_size };
  // The state first, so a partial file never exists without what it is of.
  if (kept === null) await saveDirectState(files.state, facts, done);
  const file = await open(files.data, kept === null ? "w" : "r+");
  const resumedChunks = done.doneCount();
  // A size of 0 shows no bar.
  const shownSize = options.progress === false ? 0 : first.size;
  const progress = transferProgress("get", shownSize);
  progress.advance(Math.min(first.size, resumedChunks * first.chunk_size));
  const abort = new AbortController();
  const keepOnSignal = () => {
    process.stderr.write(`\nverigate: interrupted; ${keptMessage(files, done)}\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.once("SIGINT", keepOnSignal).once("SIGTERM", keepOnSignal);
  const storage = new StorageRanges(options.parallel);
  const run: Run = { client, key: first.key, files, first, done, file, progress, shownSize, storage, signal: abort.signal };
  let saving = Promise.resolve();
  const recordDone = (range: ChunkRange) => {
    for (let index = range.firstChunk; index < range.firstChunk + range.digests.length; index++) done.add(index);
    saving = saving.then(() => saveDirectState(files.state, facts, done));
    return saving;
  };
  try {
    await eachRange(run, options.parallel, abort, recordDone);
    await saving;
    progress.stop();
    await verifyWhole(run);
    await rm(files.state, { force: true });
    return { key: first.key, version: first.version, size: first.size, sha256: first.sha256, resumedChunks, chunkCount: count };
  } catch (error) {
    abort.abort();
    await saving.catch(() => {});
    await file.close().catch(() => {});
    if (error instanceof VerigateIntegrityError && (error.reason === "digest_mismatch" || error.reason === "size_mismatch")) {
      await discard(files);
      throw error;
    }
    if (error instanceof Error) error.message = `${error.message}; ${keptMessage(files, done)}`;
    throw error;
  } finally {
    storage.close();
    progress.stop();
    process.off("SIGINT", keepOnSignal).off("SIGTERM", keepOnSignal);
  }
}

/**
 * Fetches every missing range with at most `parallel` in flight, each worker reusing one buffer, so memory holds
 * `parallel` ranges whatever the object's size. The first failure that is final aborts the others; all have settled
 * before this returns, so nothing writes to the file after it is closed.
 */
async function eachRange(run: Run, parallel: number, abort: AbortController, recordDone: (range: ChunkRange) => Promise<void>): Promise<void> {
  const ranges = missingRanges(run);
  const rangeBytes = Math.max(1, Math.floor(RANGE_TARGET_BYTES / run.first.chunk_size)) * run.first.chunk_size;
  // An object, not a `let`: the workers set it, and the checks after them must not see it narrowed to undefined.
  const outcome: { failure?: { error: unknown } } = {};
  async function worker(): Promise<void> {
    let buffer: Uint8Array | undefined;
    while (outcome.failure === undefined) {
      const next = await ranges.next();
      if (next.done) return;
      buffer ??= new Uint8Array(Math.min(rangeBytes, run.first.size));
      await fetchRange(run, next.value, buffer);
      await recordDone(next.value);
      run.progress.advance(next.value.end - next.value.start);
    }
  }
  const workers = Array.from({ length: parallel }, () =>
    worker().catch((error: unknown) => {
      outcome.failure ??= { error };
      abort.abort();
    }),
  );
  await Promise.all(workers);
  await ranges.return(undefined);
  if (outcome.failure !== undefined) throw outcome.failure.error;
}

/**
 * The ranges of chunks not yet on disk, window by window: the first plan is the one the download began with, each
 * later window is asked pinned to its version, from the first missing chunk on. Every window must describe the same
 * version as the first; its digests are the only thing the bytes are checked against.
 */
async function* missingRanges(run: Run): AsyncGenerator<ChunkRange> {
  const { client, first, done } = run;
  const perRange = Math.max(1, Math.floor(RANGE_TARGET_BYTES / first.chunk_size));
  let plan: DownloadPlan | null = first;
  while (plan !== null) {
    checkWindow(first, plan);
    const window: WindowUrl = { url: plan.url };
    let range: ChunkRange | null = null;
    for (const [offset, digest] of plan.chunks.entries()) {
      const index = plan.first_chunk + offset;
      if (done.has(index)) continue;
      if (range !== null && (index !== range.firstChunk + range.digests.length || range.digests.length === perRange)) {
        yield range;
        range = null;
      }
      range ??= { firstChunk: index, digests: [], start: index * first.chunk_size, end: 0, window };
      range.digests.push(digest);
      range.end = Math.min(first.size, (index + 1) * first.chunk_size);
    }
    if (range !== null) yield range;
    const from: number | null = plan.next_offset === null ? null : nextMissing(done, Math.ceil(plan.next_offset / first.chunk_size));
    plan = from === null ? null : await client.planDownload(first.key, { version: first.version, offset: from * first.chunk_size });
  }
}

function nextMissing(done: ChunkBitmap, from: number): number | null {
  for (let index = from; index < done.count; index++) if (!done.has(index)) return index;
  return null;
}

function checkWindow(first: DownloadPlan, plan: DownloadPlan): void {
  const same = plan.version === first.version && plan.size === first.size && plan.sha256 === first.sha256 && plan.chunk_size === first.chunk_size;
  const fits =
    Number.isSafeInteger(plan.first_chunk) && plan.first_chunk >= 0 && plan.first_chunk + plan.chunks.length <= chunkCount(first.size, first.chunk_size);
  if (!same || !fits || !plan.chunks.every((digest) => SHA256_HEX.test(digest))) {
    throw new VerigateIntegrityError("unverifiable", `the gateway's plan for chunks from ${plan.first_chunk} does not describe version ${first.version}`);
  }
}

/**
 * One range into `buffer` and onto disk at its offset, tried again while the failure may pass; a chunk mismatch is
 * final. A URL storage refuses (403: expired) is replaced by a fresh plan's and the range asked again at once; the
 * same range refused again right after is final.
 */
async function fetchRange(run: Run, range: ChunkRange, buffer: Uint8Array): Promise<void> {
  let failures = 0;
  let refusedBefore = false;
  while (true) {
    const url = range.window.url;
    try {
      const bytes = await receiveRange(run, range, url, buffer);
      await run.file.write(bytes, 0, bytes.length, range.start);
      return;
    } catch (error) {
      if (isFinal(error, run.signal)) throw error;
      if (isRefusal(error)) {
        if (refusedBefore) throw refusedAgain(run, range, error);
        refusedBefore = true;
        await freshUrl(run, range, url);
        continue;
      }
      refusedBefore = false;
      failures++;
      if (failures >= RANGE_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS * failures));
    }
  }
}

function isFinal(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  if (error instanceof VerigateIntegrityError) return error.reason !== "short_response";
  return error instanceof VerigateApiError && error.status < 500 && error.status !== STORAGE_FORBIDDEN;
}

function isRefusal(error: unknown): error is VerigateApiError {
  return error instanceof VerigateApiError && error.status === STORAGE_FORBIDDEN;
}

/**
 * A fresh plan of the same version for `range` when its window's URL is still `refused` (the ranges refused with it
 * wait for one plan, not one each); its URL then serves the rest of the window. The digests stay the first plan's.
 */
async function freshUrl(run: Run, range: ChunkRange, refused: string): Promise<void> {
  const { window } = range;
  if (window.url !== refused) return;
  window.refreshing ??= (async () => {
    try {
      const plan = await run.client.planDownload(run.key, { version: run.first.version, offset: range.start, length: range.end - range.start });
      checkWindow(run.first, plan);
      window.url = plan.url;
    } finally {
      window.refreshing = undefined;
    }
  })();
  await window.refreshing;
}

function refusedAgain(run: Run, range: ChunkRange, error: VerigateApiError): VerigateApiError {
  const what = `bytes ${range.start}-${range.end - 1} of ${run.key}`;
  return new VerigateApiError(
    error.status,
    error.code,
    error.requestId,
    `storage refused ${what} again with the URL of a fresh plan, so it does not accept the URLs the gateway presigns (check the gateway's S3 credentials and its clock)`,
    error.detail,
  );
}

/**
 * Reads one Range response into `buffer`, checking each chunk as soon as its last byte arrived, so a tampered chunk
 * is reported before the rest of its range (or the download) is waited for.
 */
async function receiveRange(run: Run, range: ChunkRange, url: string, buffer: Uint8Array): Promise<Uint8Array> {
  const length = range.end - range.start;
  const what = `bytes ${range.start}-${range.end - 1}`;
  const response = await run.storage.get(url, range.start, range.end, run.signal);
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) throw await storageRefusal(response, what);
  const whole = status === 200 && range.start === 0 && range.end === run.first.size;
  const served = response.headers["content-range"];
  if (!whole && (status !== 206 || served?.startsWith(`bytes ${range.start}-${range.end - 1}/`) !== true)) {
    response.destroy();
    throw new VerigateIntegrityError("unverifiable", `storage answered ${what} with ${status} ${served ?? ""}`);
  }
  const bytes = buffer.subarray(0, length);
  let filled = 0;
  let checked = 0;
  try {
    for await (const piece of response as AsyncIterable<Buffer>) {
      if (filled + piece.length > length) throw new VerigateIntegrityError("size_mismatch", `storage sent more than ${what}`);
      bytes.set(piece, filled);
      filled += piece.length;
      while (checked < range.digests.length && filled >= Math.min(length, (checked + 1) * run.first.chunk_size)) {
        checkChunk(run, range, bytes, checked);
        checked++;
      }
    }
  } catch (error) {
    if (error instanceof VerigateIntegrityError) throw error;
    throw new VerigateIntegrityError("short_response", `storage cut ${what} after ${filled}`, { cause: error });
  }
  if (filled < length) throw new VerigateIntegrityError("short_response", `storage ended ${what} after ${filled}`);
  return bytes;
}

function checkChunk(run: Run, range: ChunkRange, bytes: Uint8Array, offset: number): void {
  const { chunk_size: chunkSize, version } = run.first;
  const actual = createHash("sha256")
    .update(bytes.subarray(offset * chunkSize, Math.min(bytes.length, (offset + 1) * chunkSize)))
    .digest("hex");
  if (actual !== range.digests[offset]) {
    const index = range.firstChunk + offset;
    throw new VerigateIntegrityError(
      "digest_mismatch",
      `chunk ${index} (bytes from ${index * chunkSize}) of ${run.key} from storage does not match the digest the gateway gave for version ${version}: storage holds other bytes`,
    );
  }
}

/** The whole file's SHA-256 against the plan's, then the rename into place. */
async function verifyWhole(run: Run): Promise<void> {
  const { files, first, file } = run;
  const hash = createHash("sha256");
  await hashFileInto(hash, files.data, { length: first.size, progressSize: run.shownSize });
  try {
    await keepVerified(file, hash, first, files.data, files.target);
  } catch (error) {
    if (!(error instanceof VerigateIntegrityError)) throw error;
    throw new WholeMismatch("digest_mismatch", `every chunk matched but ${error.message}`);
  }
}

/**
 * The chunks kept on disk by an earlier run of this download, or null when there are none usable. Those of another
 * version (the object changed), another object or another gateway are discarded, saying so; a partial file with no
 * state of ours is refused, as it may be anyone's.
 */
async function keptChunks(files: PartialFiles, endpoint: string, plan: DownloadPlan, warn: (text: string) => void): Promise<ChunkBitmap | null> {
  const length = await keptLength(files);
  if (length === null) return null;
  const saved = await readDirectState(files.state);
  if (saved === null) {
    const stateExists = await stat(files.state).then(
      () => true,
      () => false,
    );
    if (!stateExists) throw new VerigateUsageError(`${files.data} exists and is no download verigate can continue; move it away or choose another -o`);
    warn(`verigate: ${files.data} is not a direct download that can be continued; discarding it`);
    await discard(files);
    return null;
  }
  const { state, done } = saved;
  if (state.endpoint !== endpoint || state.key !== plan.key || length > state.size) {
    warn(`verigate: ${files.data} is not a download of ${plan.key} from ${endpoint} that can be continued; discarding it`);
    await discard(files);
    return null;
  }
  if (state.version !== plan.version || state.sha256 !== plan.sha256 || state.size !== plan.size || state.chunk_size !== plan.chunk_size) {
    warn(
      `verigate: ${plan.key} changed since ${files.data} was started (version ${state.version}, now ${plan.version}); discarding it and downloading from the start`,
    );
    await discard(files);
    return null;
  }
  return done;
}

function keptMessage(files: PartialFiles, done: ChunkBitmap): string {
  return `${done.doneCount()} of ${done.count} chunks kept in ${files.data}: run the same command again to resume`;
}
