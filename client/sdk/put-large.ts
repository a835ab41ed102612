import { toHex } from "../../shared/crypto/encoding.ts";
import { ResumableSha256 } from "../../shared/crypto/sha256-resumable.ts";
import { partLength } from "../../shared/uploads/layout.ts";
import type { VerigateClient } from "./client.ts";
import { VerigateApiError, VerigateUsageError } from "./errors.ts";
import type { CompletePending, PutResult, StoredPart, UploadSession } from "./types.ts";

/** What `putLarge` reads parts from: a `Blob`, or a file read by range (the CLI's). */
export interface PartSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
}

export interface PutLargeOptions {
  /** Parts in flight at once, and so the most parts held in memory at once (default 4). */
  concurrency?: number;
  /** The whole object's SHA-256 (hex) when the caller has it already; otherwise it is computed first, by streaming. */
  sha256?: string;
  contentType?: string;
  ifNoneMatch?: boolean;
  ifMatch?: string;
  /**
   * Parts straight to storage through presigned URLs: `true` always (the gateway must offer `direct_parts`), `false`
   * never, `"auto"` (default) where the gateway cannot take parts itself (Lambda's 6 MB payload limit).
   */
  direct?: boolean | "auto";
  /** An earlier session of this upload: continued when still open for the same key, size and SHA-256, else aborted and replaced. */
  resume?: { uploadId: string };
  /** The session, before any part is sent (`resumed` when it is `resume`'s): the moment to save its id for a later resume. */
  onSession?: (session: UploadSession, resumed: boolean) => void | Promise<void>;
  /** Bytes stored so far (a resumed session's earlier parts included) of `total`; called as parts finish. */
  onProgress?: (stored: number, total: number) => void;
  /** Bytes of the whole object hashed so far, while the SHA-256 is computed (without `sha256`). */
  onHashing?: (hashed: number, total: number) => void;
  /** How far the gateway's verification got, after each 202 of complete. */
  onVerifying?: (pending: CompletePending) => void;
  signal?: AbortSignal;
}

const DEFAULT_CONCURRENCY = 4;
/** Reads while hashing the whole object: large enough for few calls, small next to a part. */
const HASH_READ_BYTES = 8 * 1024 * 1024;
/** A part is tried this many times when the failure may pass (network, 5xx, 429). */
const PART_ATTEMPTS = 3;
const RETRY_BACKOFF_MS = 1000;

/**
 * Uploads `source` through an upload session (PROTOCOL "Upload sessions"): the whole SHA-256 first, then create (or
 * resume: only the parts the session lacks are sent), parts with at most `concurrency` in flight and in memory, then
 * complete, which the gateway answers with 201 only once every byte it assembled hashed to that SHA-256.
 */
export async function putLarge(client: VerigateClient, key: string, source: Blob | PartSource, options: PutLargeOptions = {}): Promise<PutResult> {
  const reader = source instanceof Blob ? blobSource(source) : source;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new VerigateUsageError("concurrency must be a whole number, at least 1");
  const sha256 = options.sha256 ?? (await streamingSha256(reader, options.onHashing));
  const { session, stored, resumed } = await openSession(client, key, reader.size, sha256, options);
  if (options.direct === true && !session.direct_parts) {
    if (!resumed) await client.abortUpload(session.upload_id).catch(() => {});
    throw new VerigateUsageError("the gateway does not offer direct parts (storage presign is off there)");
  }
  await options.onSession?.(session, resumed);
  let direct = options.direct === true || (options.direct !== false && session.direct_parts && (await gatewayRefusesParts(client)));
  const have = new Set(stored.filter((part) => part.size === partLength(session, part.part)).map((part) => part.part));
  const missing = Array.from({ length: session.part_count }, (_, index) => index + 1).filter((part) => !have.has(part));
  let done = [...have].reduce((sum, part) => sum + partLength(session, part), 0);
  options.onProgress?.(done, session.size);
  await eachConcurrently(missing, concurrency, async (part) => {
    const length = partLength(session, part);
    const bytes = await reader.read((part - 1) * session.part_size, length);
    if (bytes.length !== length) throw new VerigateUsageError(`the source ended early: part ${part} has ${bytes.length} of ${length} bytes`);
    await withRetries(async () => {
      if (!direct) {
        try {
          return await client.uploadPart(session.upload_id, part, bytes, signalOf(options));
        } catch (error) {
          // Where the gateway cannot take a part (Lambda's payload limit), storage can.
          if (!(error instanceof VerigateApiError && error.status === 413 && session.direct_parts && options.direct !== false)) throw error;
          direct = true;
        }
      }
      return client.uploadPartDirect(session.upload_id, part, bytes, signalOf(options));
    });
    done += length;
    options.onProgress?.(done, session.size);
  });
  return client.completeUpload(session.upload_id, { ...signalOf(options), ...(options.onVerifying ? { onVerifying: options.onVerifying } : {}) });
}

/** The session `resume` names when it is still this upload and can go on, else a new one (the stale one aborted). */
async function openSession(
  client: VerigateClient,
  key: string,
  size: number,
  sha256: string,
  options: PutLargeOptions,
): Promise<{ session: UploadSession; stored: StoredPart[]; resumed: boolean }> {
  if (options.resume !== undefined) {
    const status = await client.uploadStatus(options.resume.uploadId).catch((error: unknown) => {
      if (error instanceof VerigateApiError && error.code === "not_found") return null;
      throw error;
    });
    const same = status !== null && status.key === key && status.size === size && status.sha256 === sha256;
    if (same && status.state !== "failed") return { session: status, stored: status.parts, resumed: true };
    if (status !== null && status.state !== "failed") await client.abortUpload(status.upload_id).catch(() => {});
  }
  const session = await client.createUpload(key, {
    size,
    sha256,
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    ...(options.ifNoneMatch === undefined ? {} : { ifNoneMatch: options.ifNoneMatch }),
    ...(options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch }),
  });
  return { session, stored: [], resumed: false };
}

/** True where parts cannot go through the gateway: the Lambda build, behind its 6 MB request payload limit. */
async function gatewayRefusesParts(client: VerigateClient): Promise<boolean> {
  try {
    return (await client.health()).runtime === "lambda";
  } catch {
    return false;
  }
}

async function streamingSha256(source: PartSource, onHashing: PutLargeOptions["onHashing"]): Promise<string> {
  const hash = new ResumableSha256();
  for (let offset = 0; offset < source.size; offset += HASH_READ_BYTES) {
    hash.update(await source.read(offset, Math.min(HASH_READ_BYTES, source.size - offset)));
    onHashing?.(Math.min(offset + HASH_READ_BYTES, source.size), source.size);
  }
  return toHex(hash.digest());
}

function blobSource(blob: Blob): PartSource {
  return { size: blob.size, read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()) };
}

/** Runs `run` on every item, at most `concurrency` at a time; the first failure stops new work and is thrown. */
async function eachConcurrently<T>(items: T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await run(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Tries `attempt` again after a failure that may pass: the network, a 5xx (503 `overloaded` included), a 429. */
async function withRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const stopped = error instanceof VerigateUsageError || (error instanceof Error && error.name === "AbortError");
      const passing = !stopped && (!(error instanceof VerigateApiError) || error.status >= 500 || error.status === 429);
      if (!passing || tries >= PART_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS * tries));
    }
  }
}

function signalOf(options: PutLargeOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}
