import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, toBase64, toHex } from "../../shared/crypto/encoding.ts";
import { S3ObjectStorage } from "../../shared/storage/s3.ts";
import { LOCAL_AWS_REGION } from "./support/aws-local.ts";

interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

const UPLOAD_ID = "stub-upload";
/** A part checksum the stub answers with S3's BadDigest, as S3 does when the bytes hash to something else. */
const BAD_CHECKSUM = toBase64(new Uint8Array(32));

function s3Error(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code}</Message></Error>`;
}

/** What AWS S3 answers to each multipart request; the checks S3 makes are its own, so only the answers are stubbed. */
function answer(request: SeenRequest): { status: number; headers?: Record<string, string>; body: string } {
  const { method, url } = request;
  if (method === "POST" && url.searchParams.has("uploads")) {
    return {
      status: 200,
      body: `<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>${UPLOAD_ID}</UploadId></InitiateMultipartUploadResult>`,
    };
  }
  if (method === "PUT" && url.searchParams.has("partNumber")) {
    if (request.headers["x-amz-checksum-sha256"] === BAD_CHECKSUM) return { status: 400, body: s3Error("BadDigest") };
    return { status: 200, headers: { etag: `"etag-${url.searchParams.get("partNumber")}"` }, body: "" };
  }
  if (method === "POST" && url.searchParams.has("uploadId")) {
    return { status: 200, body: '<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"whole-2"</ETag></CompleteMultipartUploadResult>' };
  }
  if (method === "DELETE" && url.searchParams.get("uploadId") === "gone") return { status: 404, body: s3Error("NoSuchUpload") };
  if (method === "DELETE") return { status: 403, body: s3Error("AccessDenied") };
  return { status: 400, body: s3Error("InvalidRequest") };
}

/**
 * The requests S3ObjectStorage's multipart API sends, as AWS S3 would receive them: s3rver ignores checksums and
 * has no abort (test/node/aws-backends.test.ts), so what S3 checks is pinned here on the wire.
 */
describe("S3 multipart requests", () => {
  const seen: SeenRequest[] = [];
  let stub: Server;
  let storage: S3ObjectStorage;

  beforeAll(async () => {
    stub = createServer((incoming, response) => {
      const pieces: Buffer[] = [];
      incoming.on("data", (piece: Buffer) => pieces.push(piece));
      incoming.on("end", () => {
        const request = {
          method: incoming.method ?? "",
          url: new URL(incoming.url ?? "/", "http://stub"),
          headers: incoming.headers,
          body: Buffer.concat(pieces).toString(),
        };
        seen.push(request);
        const { status, headers, body } = answer(request);
        response.writeHead(status, { "content-type": "application/xml", ...headers });
        response.end(body);
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    storage = new S3ObjectStorage({ endpoint, region: LOCAL_AWS_REGION, bucket: "b", accessKeyId: "stub", secretAccessKey: "stub" });
  });
  afterAll(() => new Promise((resolve) => stub?.close(resolve)));

  it("creates the upload with ChecksumAlgorithm SHA256", async () => {
    seen.length = 0;
    expect(await storage.multipart.create("blobs/k", { contentType: "text/plain" })).toBe(UPLOAD_ID);
    expect(seen[0]?.headers["x-amz-checksum-algorithm"]).toBe("SHA256");
    expect(seen[0]?.headers["content-type"]).toBe("text/plain");
  });

  it("sends a part with its SHA-256 as x-amz-checksum-sha256, a plain body of its exact length, and returns S3's ETag", async () => {
    seen.length = 0;
    const bytes = new Uint8Array(1000).fill(9);
    const digest = await sha256(bytes);
    const part = await storage.multipart.uploadPart("blobs/k", UPLOAD_ID, 3, new Blob([bytes]).stream(), { length: bytes.length, sha256: digest });
    expect(part).toEqual({ partNumber: 3, etag: '"etag-3"', sha256: toHex(digest) });
    const [request] = seen;
    expect(request?.url.searchParams.get("partNumber")).toBe("3");
    expect(request?.url.searchParams.get("uploadId")).toBe(UPLOAD_ID);
    expect(request?.headers["x-amz-checksum-sha256"]).toBe(toBase64(digest));
    expect(request?.headers["content-length"]).toBe("1000");
    expect(request?.headers["content-encoding"]).toBeUndefined();
    expect(request?.body.length).toBe(1000);
  });

  it("maps S3's BadDigest on a part to digest_mismatch", async () => {
    const bytes = new Uint8Array(100);
    await expect(
      storage.multipart.uploadPart("blobs/k", UPLOAD_ID, 1, new Blob([bytes]).stream(), { length: bytes.length, sha256: new Uint8Array(32) }),
    ).rejects.toMatchObject({ name: "VerigateError", code: "digest_mismatch" });
  });

  it("completes with every part's ETag and ChecksumSHA256, in ascending part order", async () => {
    seen.length = 0;
    const first = toHex(await sha256("first"));
    const second = toHex(await sha256("second"));
    await storage.multipart.complete("blobs/k", UPLOAD_ID, [
      { partNumber: 2, etag: '"etag-2"', sha256: second },
      { partNumber: 1, etag: '"etag-1"', sha256: first },
    ]);
    const body = seen[0]?.body ?? "";
    const parts = [...body.matchAll(/<Part>(.*?)<\/Part>/g)].map((match) => match[1]);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toContain("<PartNumber>1</PartNumber>");
    expect(parts[0]).toContain(`<ChecksumSHA256>${toBase64(await sha256("first"))}</ChecksumSHA256>`);
    expect(parts[1]).toContain("<PartNumber>2</PartNumber>");
    expect(parts[1]).toContain(`<ChecksumSHA256>${toBase64(await sha256("second"))}</ChecksumSHA256>`);
  });

  it("abort of an upload S3 no longer holds (NoSuchUpload) succeeds; any other refusal is the caller's to see", async () => {
    await expect(storage.multipart.abort("blobs/k", "gone")).resolves.toBeUndefined();
    await expect(storage.multipart.abort("blobs/k", "denied")).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
