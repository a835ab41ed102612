import { GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { S3Settings } from "../config/index.ts";
import { createS3Client } from "./s3-client.ts";

/**
 * A presigned GET of one blob straight from the object store. The bytes it serves bypass the gateway's
 * verification, so whoever receives it must check them against the integrity block it came with.
 */
export async function presignStorageGet(settings: S3Settings, blobKey: string, expiresInSeconds: number): Promise<string> {
  const client = createS3Client(settings);
  return getSignedUrl(client, new GetObjectCommand({ Bucket: settings.bucket, Key: blobKey }), { expiresIn: expiresInSeconds });
}
