import { toHex } from "../crypto/encoding.ts";
import type { MultipartStorage, PartOptions, StoredPart } from "./index.ts";

/** The part of the Workers R2 binding's multipart API this backend uses (no vendor types in `shared/`). */
export interface R2MultipartBindingLike {
  createMultipartUpload(key: string, options?: { httpMetadata?: { contentType?: string } }): Promise<{ uploadId: string }>;
  resumeMultipartUpload(key: string, uploadId: string): R2MultipartUploadLike;
}

interface R2MultipartUploadLike {
  uploadPart(partNumber: number, value: ReadableStream): Promise<{ partNumber: number; etag: string }>;
  complete(uploadedParts: { partNumber: number; etag: string }[]): Promise<unknown>;
  abort(): Promise<void>;
}

/** R2's error number for an upload that was aborted, completed or never created; R2 appends it to the message. */
const R2_NO_SUCH_UPLOAD = 10024;

/**
 * R2's multipart API through the binding. Like `put`, a part is stored only with a known length, so its body goes
 * through a `FixedLengthStream`, which also fails the part when the body ends short of or runs past `length`.
 * R2's `uploadPart` takes no checksum: the part's SHA-256 is the caller's, checked by the gateway's own hashing and
 * by the whole-object verification at complete. At complete R2 refuses parts but the last under 5 MiB
 * (`EntityTooSmall`), parts but the last of unequal sizes or a last part larger than them (`BadUpload`), and an ETag
 * it did not give (`InvalidPart`).
 */
export class R2Multipart implements MultipartStorage {
  readonly #bucket: R2MultipartBindingLike;

  constructor(bucket: R2MultipartBindingLike) {
    this.#bucket = bucket;
  }

  async create(blobKey: string, options: { contentType?: string }): Promise<string> {
    const upload = await this.#bucket.createMultipartUpload(blobKey, options.contentType ? { httpMetadata: { contentType: options.contentType } } : {});
    return upload.uploadId;
  }

  async uploadPart(blobKey: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, options: PartOptions): Promise<StoredPart> {
    const sized = body.pipeThrough(new FixedLengthStream(options.length));
    const { etag } = await this.#bucket.resumeMultipartUpload(blobKey, uploadId).uploadPart(partNumber, sized);
    return { partNumber, etag, sha256: options.sha256 ? toHex(options.sha256) : "" };
  }

  async complete(blobKey: string, uploadId: string, parts: StoredPart[]): Promise<void> {
    const uploaded = parts.map(({ partNumber, etag }) => ({ partNumber, etag })).sort((a, b) => a.partNumber - b.partNumber);
    await this.#bucket.resumeMultipartUpload(blobKey, uploadId).complete(uploaded);
  }

  async abort(blobKey: string, uploadId: string): Promise<void> {
    try {
      await this.#bucket.resumeMultipartUpload(blobKey, uploadId).abort();
    } catch (error) {
      if (r2ErrorNumber(error) !== R2_NO_SUCH_UPLOAD) throw error;
    }
  }
}

export function r2ErrorNumber(error: unknown): number | undefined {
  const match = error instanceof Error ? /\((\d+)\)\s*$/.exec(error.message) : null;
  return match ? Number(match[1]) : undefined;
}
