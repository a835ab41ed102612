import { timingSafeEqual, toHex } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import type { ByteRange, MultipartStorage, ObjectStorage, PartOptions, PutOptions, StoredBlob, StoredPart } from "./index.ts";
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
  readonly multipart: MultipartStorage = new MemoryMultipart(this.#blobs);

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

/** The smallest part but the last that R2 and S3 accept at complete. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

interface MemoryUpload {
  blobKey: string;
  parts: Map<number, { bytes: Uint8Array<ArrayBuffer>; etag: string }>;
}

/** Multipart uploads held in memory, with R2's part rules (the stricter store's) checked at complete as R2 does. */
class MemoryMultipart implements MultipartStorage {
  readonly #blobs: Map<string, Uint8Array<ArrayBuffer>>;
  readonly #uploads = new Map<string, MemoryUpload>();

  constructor(blobs: Map<string, Uint8Array<ArrayBuffer>>) {
    this.#blobs = blobs;
  }

  async create(blobKey: string): Promise<string> {
    const uploadId = crypto.randomUUID();
    this.#uploads.set(uploadId, { blobKey, parts: new Map() });
    return uploadId;
  }

  async uploadPart(blobKey: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, options: PartOptions): Promise<StoredPart> {
    const upload = this.#upload(blobKey, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) throw new Error(`memory storage: part number ${partNumber}`);
    const bytes = new Uint8Array(await new Response(body).arrayBuffer());
    if (bytes.length !== options.length) throw new Error(`memory storage: part has ${bytes.length} bytes, ${options.length} declared`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    if (options.sha256 && !timingSafeEqual(digest, options.sha256)) throw new VerigateError("digest_mismatch", "memory storage: part SHA-256 differs");
    const etag = `"${crypto.randomUUID()}"`;
    upload.parts.set(partNumber, { bytes, etag });
    return { partNumber, etag, sha256: toHex(digest) };
  }

  async complete(blobKey: string, uploadId: string, parts: StoredPart[]): Promise<void> {
    const upload = this.#upload(blobKey, uploadId);
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const pieces = ordered.map((part) => {
      const stored = upload.parts.get(part.partNumber);
      if (!stored || stored.etag !== part.etag) throw new Error(`memory storage: part ${part.partNumber} is not stored with that ETag`);
      return { partNumber: part.partNumber, bytes: stored.bytes };
    });
    checkPartSizes(pieces);
    const whole = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.bytes.length, 0));
    let offset = 0;
    for (const { bytes } of pieces) {
      whole.set(bytes, offset);
      offset += bytes.length;
    }
    this.#blobs.set(blobKey, whole);
    this.#uploads.delete(uploadId);
  }

  async abort(_blobKey: string, uploadId: string): Promise<void> {
    this.#uploads.delete(uploadId);
  }

  #upload(blobKey: string, uploadId: string): MemoryUpload {
    const upload = this.#uploads.get(uploadId);
    if (!upload || upload.blobKey !== blobKey) throw new Error(`memory storage: no multipart upload ${uploadId} of ${blobKey}`);
    return upload;
  }
}

/** R2's rules at complete: every part but the last at least 5 MiB and all of one size, the last no larger. */
function checkPartSizes(parts: { partNumber: number; bytes: Uint8Array }[]): void {
  const partSize = parts[0]?.bytes.length ?? 0;
  parts.forEach(({ partNumber, bytes: { length: size } }, index) => {
    const last = index === parts.length - 1;
    if (!last && size < MIN_PART_BYTES) throw new Error(`memory storage: part ${partNumber} is smaller than 5 MiB and not the last`);
    if (last ? size > partSize : size !== partSize) throw new Error(`memory storage: part ${partNumber} differs in size from the first part`);
  });
}
