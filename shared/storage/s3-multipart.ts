import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { fromHex, toBase64, toHex } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import type { MultipartStorage, PartOptions, StoredPart } from "./index.ts";
import { badDigestAsMismatch, s3ErrorName, sendExactLength } from "./s3-body.ts";

/**
 * S3's multipart API with SHA-256 checksums: the upload is created with `ChecksumAlgorithm: SHA256`, so S3 checks
 * every part against the `x-amz-checksum-sha256` it came with (`BadDigest`) and complete against the part checksums
 * it is given. The resulting object's checksum is composite (a digest of the part digests), never the whole
 * object's SHA-256, which the gateway computes itself. S3 enforces the 5 MiB minimum for every part but the last at
 * complete (`EntityTooSmall`) but not R2's equal part sizes. s3rver checks none of this (test/contracts).
 */
export class S3Multipart implements MultipartStorage {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  async create(blobKey: string, options: { contentType?: string; checksums?: boolean }): Promise<string> {
    const { UploadId } = await this.#client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.#bucket,
        Key: blobKey,
        ...(options.checksums === false ? {} : { ChecksumAlgorithm: "SHA256" }),
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      }),
    );
    if (!UploadId) throw new VerigateError("internal", `S3 answered CreateMultipartUpload of ${blobKey} without an upload id`);
    return UploadId;
  }

  async uploadPart(blobKey: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, options: PartOptions): Promise<StoredPart> {
    const { ETag } = await sendExactLength(body, options.length, (source, abortSignal) =>
      this.#client.send(
        new UploadPartCommand({
          Bucket: this.#bucket,
          Key: blobKey,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: source,
          ContentLength: options.length,
          ...(options.sha256 ? { ChecksumSHA256: toBase64(options.sha256) } : {}),
        }),
        { abortSignal },
      ),
    ).catch(badDigestAsMismatch(`part ${partNumber} of ${blobKey}`));
    if (!ETag) throw new VerigateError("internal", `S3 answered part ${partNumber} of ${blobKey} without an ETag`);
    return { partNumber, etag: ETag, sha256: options.sha256 ? toHex(options.sha256) : "" };
  }

  async complete(blobKey: string, uploadId: string, parts: StoredPart[]): Promise<void> {
    // S3 refuses a part list out of ascending order (InvalidPartOrder).
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    await this.#client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.#bucket,
        Key: blobKey,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: ordered.map((part) => ({
            PartNumber: part.partNumber,
            ETag: part.etag,
            ...(part.sha256 ? { ChecksumSHA256: toBase64(fromHex(part.sha256)) } : {}),
          })),
        },
      }),
    );
  }

  async abort(blobKey: string, uploadId: string): Promise<void> {
    try {
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: blobKey, UploadId: uploadId }));
    } catch (error) {
      // Already aborted, completed, or never created: either way nothing of it is left to drop.
      if (s3ErrorName(error) !== "NoSuchUpload") throw error;
    }
  }
}
