import { S3Client } from "@aws-sdk/client-s3";
import type { S3Settings } from "../config/index.ts";

/**
 * A client for any S3-compatible endpoint. The SDK's default request and response checksums are off:
 * R2 and other S3-compatible stores reject or mis-validate them, and the gateway checks bytes itself.
 * Without explicit keys the SDK's default chain applies (the Lambda execution role).
 */
export function createS3Client(settings: S3Settings): S3Client {
  const { endpoint, region, accessKeyId, secretAccessKey } = settings;
  return new S3Client({
    region,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  });
}
