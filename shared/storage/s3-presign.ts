import { GetObjectCommand, PutObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
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
): Promise<SignedPut> {
  const checksum = toBase64(sha256);
  const command = new UploadPartCommand({
    Bucket: settings.bucket,
    Key: blobKey,
    UploadId: uploadId,
    PartNumber: partNumber,
    ContentLength: length,
    ChecksumSHA256: checksum,
  });
  const url = await getSignedUrl(createS3Client(settings), command, checksumSigning(expiresInSeconds));
  return { url, headers: checksumHeaders(checksum, length) };
}

/**
 * A presigned PutObject of the whole blob at `blobKey`, bound like `presignStorageUploadPart` to its SHA-256 and length
 * by signed headers. The blob is still untrusted: nothing refers to it until the gateway read it back and hashed it.
 */
export async function presignStoragePut(
  settings: S3Settings,
  blobKey: string,
  sha256: Uint8Array,
  length: number,
  expiresInSeconds: number,
): Promise<SignedPut> {
  const checksum = toBase64(sha256);
  const command = new PutObjectCommand({ Bucket: settings.bucket, Key: blobKey, ContentLength: length, ChecksumSHA256: checksum });
  const url = await getSignedUrl(createS3Client(settings), command, checksumSigning(expiresInSeconds));
  return { url, headers: checksumHeaders(checksum, length) };
}

/** A presigned URL and the headers the uploader must send with it as given. */
export interface SignedPut {
  url: string;
  headers: Record<string, string>;
}

/** Keeps the checksum a signed header: S3 ignores one the presigner hoisted into the query string. */
function checksumSigning(expiresInSeconds: number) {
  return { expiresIn: expiresInSeconds, unhoistableHeaders: new Set([CHECKSUM_HEADER]) };
}

function checksumHeaders(checksum: string, length: number): Record<string, string> {
  return { [CHECKSUM_HEADER]: checksum, "content-length": String(length) };
}
