import { VerigateError } from "../errors/index.ts";
import type { ByteRange, MultipartStorage, ObjectStorage, PutOptions, StoredBlob } from "./index.ts";
import { R2Multipart, type R2MultipartBindingLike, r2ErrorNumber } from "./r2-multipart.ts";

/** The subset of the Workers R2 binding this backend uses; declared here so `shared/` needs no vendor types. */
export interface R2BucketLike extends R2MultipartBindingLike {
  put(key: string, value: ReadableStream, options: { sha256?: ArrayBufferView; httpMetadata?: { contentType?: string } }): Promise<unknown>;
  get(key: string, options?: { range?: ByteRange }): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
  head(key: string): Promise<{ size: number } | null>;
  delete(key: string): Promise<void>;
}

/** R2's error number for a put whose body does not hash to the `sha256` option; R2 appends it to the message. */
const R2_CHECKSUM_MISMATCH = 10037;

/**
 * Blobs in an R2 bucket through the Workers binding. R2 stores a stream only when its length is known up
 * front, so the body is piped through a `FixedLengthStream`, which also fails the put when the body ends
 * short of or runs past `length`.
 */
export class R2ObjectStorage implements ObjectStorage {
  readonly backend = "r2" as const;
  readonly #bucket: R2BucketLike;
  readonly multipart: MultipartStorage;

  constructor(bucket: R2BucketLike) {
    this.#bucket = bucket;
    this.multipart = new R2Multipart(bucket);
  }

  async put(blobKey: string, body: ReadableStream<Uint8Array>, options: PutOptions): Promise<void> {
    const sized = body.pipeThrough(new FixedLengthStream(options.length));
    try {
      await this.#bucket.put(blobKey, sized, {
        ...(options.sha256 ? { sha256: options.sha256 } : {}),
        ...(options.contentType ? { httpMetadata: { contentType: options.contentType } } : {}),
      });
    } catch (error) {
      if (r2ErrorNumber(error) === R2_CHECKSUM_MISMATCH) {
        throw new VerigateError("digest_mismatch", "R2 rejected the body: its SHA-256 differs", { cause: error });
      }
      throw error;
    }
  }

  async get(blobKey: string, range?: ByteRange): Promise<StoredBlob | null> {
    try {
      const object = await this.#bucket.get(blobKey, range ? { range } : undefined);
      return object && { body: object.body, size: object.size };
    } catch (error) {
      // R2 refuses a range that starts past the end (10039; local R2 fails differently on an empty blob).
      // The blob is then shorter than the caller thought: report its size so the caller sees it differ.
      if (!range) throw error;
      const head = await this.#bucket.head(blobKey);
      if (head && range.offset < head.size) throw error;
      return head && { body: new Blob([]).stream(), size: head.size };
    }
  }

  async delete(blobKey: string): Promise<void> {
    await this.#bucket.delete(blobKey);
  }
}
