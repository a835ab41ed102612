import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { S3Settings } from "../../shared/config/index.ts";
import { S3ObjectStorage } from "../../shared/storage/s3.ts";
import { presignStorageGet } from "../../shared/storage/s3-presign.ts";
import { LOCAL_AWS_REGION, type LocalS3, startS3rver } from "./support/aws-local.ts";

/** Storage-mode presigned URLs against a real S3 API on loopback (s3rver), downloaded by a plain HTTP client. */
describe("storage presigned URLs against s3rver", () => {
  let s3: LocalS3;
  let settings: S3Settings;
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
  const sha256 = createHash("sha256").update(bytes).digest("hex");

  beforeAll(async () => {
    s3 = await startS3rver();
    settings = { endpoint: s3.endpoint, region: LOCAL_AWS_REGION, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    await new S3ObjectStorage(settings).put("blobs/v1", new Blob([bytes]).stream(), { length: bytes.length });
  });
  afterAll(() => s3?.stop());

  it("downloads the blob's bytes, which match the integrity block's sha256 and size", async () => {
    const url = await presignStorageGet(settings, "blobs/v1", 120);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    const received = new Uint8Array(await response.arrayBuffer());
    expect(received.length).toBe(bytes.length);
    expect(createHash("sha256").update(received).digest("hex")).toBe(sha256);
  });

  it("signs the expiry it was asked for (s3rver does not enforce signatures, so the signed parameter is checked)", async () => {
    const url = new URL(await presignStorageGet(settings, "blobs/v1", 45));
    expect(url.searchParams.get("X-Amz-Expires")).toBe("45");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });
});
