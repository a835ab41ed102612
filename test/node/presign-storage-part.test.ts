import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { S3Settings } from "../../shared/config/index.ts";
import { sha256, toBase64, toHex } from "../../shared/crypto/encoding.ts";
import { S3ObjectStorage } from "../../shared/storage/s3.ts";
import { presignStorageUploadPart } from "../../shared/storage/s3-presign.ts";
import { concatBytes } from "../support/bytes.ts";
import { LOCAL_AWS_REGION, type LocalS3, startS3rver } from "./support/aws-local.ts";

const PART_BYTES = 5 * 1024 * 1024;
const LAST_PART_BYTES = 4099;

function partBytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(length).map((_, i) => (i * 31 + seed) % 251);
}

/**
 * Presigned UploadPart URLs (direct parts, the AWS build) against a real S3 API on loopback. The presigner of
 * @aws-sdk/s3-request-presigner 3.1164 moves every `x-amz-*` header into the query string unless it is listed in
 * `unhoistableHeaders` (@smithy/signature-v4 `moveHeadersToQuery`), and S3 ignores a checksum found there, so the
 * URL is checked for a signed checksum header. s3rver checks neither presigned signatures nor checksums: the
 * upload below shows the URL and headers address the right part, not that S3 would enforce them.
 */
describe("presigned UploadPart URLs against s3rver", () => {
  let s3: LocalS3;
  let settings: S3Settings;
  let storage: S3ObjectStorage;

  beforeAll(async () => {
    s3 = await startS3rver();
    settings = { endpoint: s3.endpoint, region: LOCAL_AWS_REGION, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    storage = new S3ObjectStorage(settings);
  });
  afterAll(() => s3?.stop());

  it("signs x-amz-checksum-sha256 and content-length as headers and carries no checksum in the query", async () => {
    const digest = await sha256(partBytes(100, 1));
    const { url, headers } = await presignStorageUploadPart(settings, "blobs/part-url", "upload-1", 7, digest, 100, 300);
    const query = new URL(url).searchParams;
    expect(query.get("X-Amz-SignedHeaders")?.split(";")).toEqual(["content-length", "host", "x-amz-checksum-sha256"]);
    expect([...query.keys()].filter((name) => name.toLowerCase().startsWith("x-amz-checksum"))).toEqual([]);
    expect(query.get("partNumber")).toBe("7");
    expect(query.get("uploadId")).toBe("upload-1");
    expect(query.get("X-Amz-Expires")).toBe("300");
    expect(headers).toEqual({ "x-amz-checksum-sha256": toBase64(digest), "content-length": "100" });
  });

  it("parts PUT to their URLs with the returned headers are stored and complete into the blob (s3rver checks no signature)", async () => {
    const key = `blobs/${crypto.randomUUID()}`;
    const parts = [partBytes(PART_BYTES, 2), partBytes(LAST_PART_BYTES, 3)];
    const uploadId = await storage.multipart.create(key, {});
    const stored = [];
    for (const partNumber of [2, 1]) {
      const bytes = parts[partNumber - 1]!;
      const digest = await sha256(bytes);
      const { url, headers } = await presignStorageUploadPart(settings, key, uploadId, partNumber, digest, bytes.length, 300);
      const response = await fetch(url, { method: "PUT", headers, body: bytes });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const etag = response.headers.get("etag");
      expect(etag).toBeTruthy();
      stored.push({ partNumber, etag: etag!, sha256: toHex(digest) });
    }
    await storage.multipart.complete(key, uploadId, stored);
    const blob = await storage.get(key);
    expect(blob?.size).toBe(PART_BYTES + LAST_PART_BYTES);
    const read = new Uint8Array(await new Response(blob!.body).arrayBuffer());
    expect(toHex(await sha256(read))).toBe(toHex(await sha256(concatBytes(parts))));
  });
});
