import { open } from "node:fs/promises";
import { resolve } from "node:path";
import type { VerigateClient } from "../sdk/client.ts";
import { VerigateApiError } from "../sdk/errors.ts";
import type { PartSource } from "../sdk/put-large.ts";
import type { PutResult } from "../sdk/types.ts";
import { digestFile } from "./file-hash.ts";
import { transferProgress } from "./progress.ts";
import { readUploadState, removeUploadState, saveUploadState, uploadStatePath } from "./upload-state.ts";

export interface SessionPutOptions {
  parallel: number;
  direct: boolean;
  contentType?: string;
  ifNoneMatch?: boolean;
  ifMatch?: string;
}

/** Codes after which the session can never commit: its saved state is dropped, and the next run starts over. */
const FINAL_CODES: ReadonlySet<string> = new Set(["digest_mismatch", "already_exists", "precondition_failed", "not_found"]);

/**
 * `verigate put` above the session threshold: the file in parts through an upload session (SDK `putLarge`), with
 * the session's id saved under the config directory before the first part leaves, so that running the same command
 * again after an interruption sends only the parts the gateway lacks. The file is not hashed again when its size and
 * mtime are those of the saved state (complete still checks every byte); a changed file gets a new session, and
 * the old one is aborted.
 */
export async function putInParts(
  client: VerigateClient,
  file: string,
  key: string,
  identity: { size: number; mtimeMs: number },
  options: SessionPutOptions,
  warn: (text: string) => void,
): Promise<PutResult> {
  const path = resolve(file);
  const statePath = uploadStatePath(client.endpoint, key, path);
  const saved = await readUploadState(statePath);
  const unchanged = saved !== null && saved.size === identity.size && saved.mtime_ms === identity.mtimeMs;
  if (saved !== null && !unchanged) warn(`verigate: ${file} changed since upload ${saved.upload_id} began; starting a new upload session`);
  const sha256 = unchanged ? saved.sha256 : (await digestFile(path, identity.size)).sha256;
  const handle = await open(path, "r");
  const progress = transferProgress("put", identity.size);
  let reported = 0;
  try {
    const result = await client.putLarge(key, fileSource(handle, identity.size), {
      sha256,
      concurrency: options.parallel,
      direct: options.direct ? true : "auto",
      ...(saved === null ? {} : { resume: { uploadId: saved.upload_id } }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
      ...(options.ifNoneMatch === undefined ? {} : { ifNoneMatch: options.ifNoneMatch }),
      ...(options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch }),
      onSession: async (session, resumed) => {
        if (resumed) warn(`verigate: resuming upload ${session.upload_id}`);
        await saveUploadState(statePath, {
          endpoint: client.endpoint,
          key,
          file: path,
          size: identity.size,
          mtime_ms: identity.mtimeMs,
          sha256,
          upload_id: session.upload_id,
        });
      },
      onProgress: (stored) => {
        progress.advance(stored - reported);
        reported = stored;
      },
    });
    await removeUploadState(statePath);
    return result;
  } catch (error) {
    if (error instanceof VerigateApiError && FINAL_CODES.has(error.code)) {
      await removeUploadState(statePath);
    } else if (error instanceof Error) {
      error.message = `${error.message}; the parts sent are kept: run the same command again to resume`;
    }
    throw error;
  } finally {
    progress.stop();
    await handle.close();
  }
}

/** The file as `putLarge` reads it: one part at a time, by position, so memory holds only the parts in flight. */
function fileSource(handle: Awaited<ReturnType<typeof open>>, size: number): PartSource {
  return {
    size,
    async read(offset, length) {
      const bytes = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? bytes : bytes.slice(0, filled);
    },
  };
}
