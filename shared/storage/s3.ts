import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3Settings } from "../config/index.ts";
import { createS3Client } from "./s3-client.ts";
import { toBase64 } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import type { ByteRange, MultipartStorage, ObjectStorage, PutOptions, StoredBlob } from "./index.ts";
import { badDigestAsMismatch, s3ErrorName, sendExactLength } from "./s3-body.ts";
import { S3Multipart } from "./s3-multipart.ts";

/**
 * Blobs in an S3 bucket (AWS S3, or any S3-compatible store through `S3_ENDPOINT`); multipart uploads in
 * `s3-multipart.ts`.
 * Bodies are streamed both ways, never buffered whole. With `sha256` the put carries `x-amz-checksum-sha256`,
 * which S3 verifies against the bytes it received (answering `BadDigest` on a mismatch); local stand-ins
 * such as s3rver ignore that header, so there the gateway's own hashing is the only check.
 */
export class S3ObjectStorage implements ObjectStorage {
  readonly backend = "s3" as const;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly multipart: MultipartStorage;

  constructor(settings: S3Settings);
  constructor(client: S3Client, bucket: string);
  constructor(source: S3Settings | S3Client, bucket?: string) {
    if (source instanceof S3Client) {
      if (!bucket) throw new VerigateError("misconfigured", "S3ObjectStorage needs a bucket name with a client");
      this.#client = source;
      this.#bucket = bucket;
    } else {
      this.#client = createS3Client(source);
      this.#bucket = source.bucket;
    }
    this.multipart = new S3Multipart(this.#client, this.#bucket);
  }

  async put(blobKey: string, body: ReadableStream<Uint8Array>, options: PutOptions): Promise<void> {
    await sendExactLength(body, options.length, (source, abortSignal) =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: blobKey,
          Body: source,
          ContentLength: options.length,
          ...(options.sha256 ? { ChecksumSHA256: toBase64(options.sha256) } : {}),
          ...(options.contentType ? { ContentType: options.contentType } : {}),
        }),
        { abortSignal },
      ),
    ).catch(badDigestAsMismatch(blobKey));
  }

  async get(blobKey: string, range?: ByteRange): Promise<StoredBlob | null> {
    // "bytes=a-(a-1)" is not a valid range, and S3 refuses any range starting at or past the end.
    if (range?.length === 0) return this.#emptyAt(blobKey);
    const rangeHeader = range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined;
    try {
      const output = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: blobKey, ...(rangeHeader ? { Range: rangeHeader } : {}) }));
      const body = output.Body?.transformToWebStream();
      // Without Content-Range a ranged get was answered with the whole blob: a store that ignores ranges.
      const size = range ? totalFromContentRange(output.ContentRange) : output.ContentLength;
      if (body === undefined || size === undefined) {
        await body?.cancel();
        throw new VerigateError("internal", `S3 answered ${rangeHeader ?? "a get"} of ${blobKey} without a body or its size`);
      }
      return { body, size };
    } catch (error) {
      if (s3ErrorName(error) === "NoSuchKey") return null;
      if (s3ErrorName(error) === "InvalidRange") return this.#emptyAt(blobKey);
      throw error;
    }
  }

  async delete(blobKey: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: blobKey }));
  }

  /** No bytes, with the blob's real size, so the caller sees how the blob differs from what it expected. */
  async #emptyAt(blobKey: string): Promise<StoredBlob | null> {
    try {
      const { ContentLength: size } = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: blobKey }));
      if (size === undefined) throw new VerigateError("internal", `S3 answered a head of ${blobKey} without its size`);
      return { body: new Blob([]).stream(), size };
    } catch (error) {
      // A HEAD response has no body, so the SDK can only name the status.
      if (s3ErrorName(error) === "NotFound") return null;
      throw error;
    }
  }
}

/** The total after the slash of `Content-Range: bytes a-b/total`; undefined when the store did not say. */
function totalFromContentRange(contentRange: string | undefined): number | undefined {
  const match = contentRange ? /^bytes \d+-\d+\/(\d+)$/.exec(contentRange.trim()) : null;
  return match ? Number(match[1]) : undefined;
}
