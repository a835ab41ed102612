import { timingSafeEqual } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import type { ByteRange, ObjectStorage, PutOptions, StoredBlob } from "./index.ts";
import { piecewiseStream } from "./piecewise.ts";
import { KIB } from "../bytes.ts";

/**
 * Reads hand out pieces this size, smaller than any verification chunk and from a stream without BYOB
 * support, so callers meet the re-chunking a network stream imposes instead of one convenient buffer.
 */
const MEMORY_PIECE_BYTES = 16 * KIB;

/** Blobs in process memory for tests and single-process local runs. */
export class MemoryObjectStorage implements ObjectStorage {
  readonly backend = "memory" as const;
  readonly #blobs = new Map<string, Uint8Array<ArrayBuffer>>();

  async put(blobKey: string, body: ReadableStream<Uint8Array>, options: PutOptions): Promise<void> {
    const bytes = new Uint8Array(await new Response(body).arrayBuffer());
    if (bytes.length !== options.length) {
      throw new Error(`memory storage: body has ${bytes.length} bytes, ${options.length} declared`);
    }
    if (options.sha256) {
      const actual = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      if (!timingSafeEqual(actual, options.sha256)) {
        throw new VerigateError("digest_mismatch", "memory storage: body SHA-256 differs");
      }
    }
    this.#blobs.set(blobKey, bytes);
  }

  async get(blobKey: string, range?: ByteRange): Promise<StoredBlob | null> {
    const bytes = this.#blobs.get(blobKey);
    if (!bytes) return null;
    const slice = range ? bytes.slice(range.offset, range.offset + range.length) : bytes.slice();
    return { body: piecewiseStream(slice, MEMORY_PIECE_BYTES), size: bytes.length };
  }

  async delete(blobKey: string): Promise<void> {
    this.#blobs.delete(blobKey);
  }
}
