import { GetObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { S3Settings } from "../config/index.ts";
import { createS3Client } from "./s3-client.ts";
import { toBase64 } from "../crypto/encoding.ts";

/**
 * A presigned GET of one blob straight from the object store. The bytes it serves bypass the gateway's
 * verification, so whoever receives it must check them against the integrity block it came with.
 */
export async function presignStorageGet(settings: S3Settings, blobKey: string, expiresInSeconds: number): Promise<string> {
  const client = createS3Client(settings);
  return getSignedUrl(client, new GetObjectCommand({ Bucket: settings.bucket, Key: blobKey }), { expiresIn: expiresInSeconds });
}

/** The part's checksum header; S3 checks the bytes against it only when it arrives as a header. */
const CHECKSUM_HEADER = "x-amz-checksum-sha256";

/**
 * A presigned UploadPart whose part must hash to `sha256` and be `length` bytes long: both go into the signature
 * as headers the uploader must send as given (`headers`). The presigner moves every `x-amz-*` header into the
 * query string unless told otherwise, and S3 ignores a checksum that arrives there, so the checksum is kept a
 * signed header (`unhoistableHeaders`). The part is still untrusted: complete verifies every byte of the object.
 */
export async function presignStorageUploadPart(
  settings: S3Settings,
  blobKey: string,
  uploadId: string,
  partNumber: number,
  sha256: Uint8Array,
  length: number,
  expiresInSeconds: number,
): Promise<{ url: string; headers: Record<string, string> }> {
  const checksum = toBase64(sha256);
  const command = new UploadPartCommand({
    Bucket: settings.bucket,
    Key: blobKey,
    UploadId: uploadId,
    PartNumber: partNumber,
    ContentLength: length,
    ChecksumSHA256: checksum,
  });
  const url = await getSignedUrl(createS3Client(settings), command, { expiresIn: expiresInSeconds, unhoistableHeaders: new Set([CHECKSUM_HEADER]) });
  return { url, headers: { [CHECKSUM_HEADER]: checksum, "content-length": String(length) } };
}
