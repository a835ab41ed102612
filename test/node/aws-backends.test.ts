import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamoDBJsonClientLike } from "../../shared/aws/dynamodb-json-from-sdk.ts";
import { sha256, toBase64 } from "../../shared/crypto/encoding.ts";
import { DynamoMetadataStore } from "../../shared/metadata/dynamodb.ts";
import { createTable } from "../../shared/metadata/dynamodb-table.ts";
import { MemoryMetadataStore } from "../../shared/metadata/memory.ts";
import { DynamoReplayStore } from "../../shared/replay/dynamodb.ts";
import { S3ObjectStorage } from "../../shared/storage/s3.ts";
import { describeMetadataStoreContract } from "../contracts/metadata-store.ts";
import { describeObjectStorageContract } from "../contracts/object-storage.ts";
import { describeReplayStoreContract, randomClaimId } from "../contracts/replay-store.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, type LocalS3, type LocalServer, startDynalite, startS3rver } from "./support/aws-local.ts";

const TABLE = "verigate-contract";

let s3: LocalS3;
let dynalite: LocalServer;
let dynamo: DynamoDBClient;

function s3Storage(endpoint = s3.endpoint): S3ObjectStorage {
  return new S3ObjectStorage({
    endpoint,
    region: LOCAL_AWS_REGION,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
}

beforeAll(async () => {
  [s3, dynalite] = await Promise.all([startS3rver(), startDynalite()]);
  dynamo = new DynamoDBClient({ endpoint: dynalite.endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
  await createTable(dynamo, TABLE);
});

afterAll(async () => {
  dynamo?.destroy();
  await Promise.all([s3?.stop(), dynalite?.stop()]);
});

/**
 * s3rver 3.7.1 implements CreateMultipartUpload, UploadPart and CompleteMultipartUpload and checks nothing at
 * complete. What AWS S3 does instead is named in each reason; the requests S3 sees are pinned below against a stub.
 */
describeObjectStorageContract("S3 (s3rver)", () => s3Storage(), {
  backend: "s3",
  verifiesSha256: false,
  reason: "s3rver ignores x-amz-checksum-sha256; the BadDigest mapping is tested below against a stub",
  multipart: {
    minPartSize: { enforced: false, reason: "s3rver 3.7.1 checks no part sizes (S3 answers EntityTooSmall)" },
    equalPartSizes: { enforced: false, reason: "S3 allows parts of unequal sizes (R2 alone requires them equal)" },
    partEtags: { enforced: false, reason: "s3rver 3.7.1 ignores the ETags sent to complete (S3 answers InvalidPart)" },
    missingParts: {
      enforced: false,
      runnable: false,
      reason: "s3rver 3.7.1 crashes its process with an unhandled ENOENT reading the part (S3 answers InvalidPart)",
    },
    partSha256: { enforced: false, reason: "s3rver ignores x-amz-checksum-sha256 (S3 answers BadDigest; mapped below against a stub)" },
    abort: { enforced: false, reason: "s3rver 3.7.1 routes no AbortMultipartUpload: DELETE ?uploadId answers 405 MethodNotAllowed" },
  },
});
describeMetadataStoreContract("DynamoDB (dynalite)", () => new DynamoMetadataStore(dynamo, TABLE), { backend: "dynamodb", atomicSwap: true });
describeMetadataStoreContract("memory", () => new MemoryMetadataStore(), { backend: "memory", atomicSwap: true });
describeReplayStoreContract("DynamoDB (dynalite)", () => new DynamoReplayStore(dynamoDBJsonClientLike(dynamo), TABLE), {
  backend: "dynamodb",
  atomic: true,
});

/** A body that hands out `bytes` and then fails the way a dropped client connection does. */
function failingBody(bytes: Uint8Array, failure: Error): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(failure);
      sent = true;
      controller.enqueue(bytes);
    },
  });
}

describe("S3ObjectStorage", () => {
  it("sends sha256 as x-amz-checksum-sha256 with a plain body, and maps S3's BadDigest to digest_mismatch", async () => {
    const seen: { headers: IncomingHttpHeaders; bodyBytes: number }[] = [];
    const stub = createServer((request, response) => {
      let bodyBytes = 0;
      request.on("data", (piece: Buffer) => (bodyBytes += piece.length));
      request.on("end", () => {
        seen.push({ headers: request.headers, bodyBytes });
        response.writeHead(400, { "content-type": "application/xml" });
        response.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadDigest</Code>' +
            "<Message>The SHA256 you specified did not match the calculated checksum.</Message></Error>",
        );
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
    try {
      const storage = s3Storage(`http://127.0.0.1:${(stub.address() as AddressInfo).port}`);
      const bytes = new Uint8Array(1000).fill(7);
      const claimed = await sha256("other bytes");
      await expect(storage.put("stub/blob", new Blob([bytes]).stream(), { length: bytes.length, sha256: claimed })).rejects.toMatchObject({
        name: "VerigateError",
        code: "digest_mismatch",
      });
      expect(seen).toHaveLength(1);
      expect(seen[0]?.headers["x-amz-checksum-sha256"]).toBe(toBase64(claimed));
      expect(seen[0]?.headers["content-length"]).toBe("1000");
      expect(seen[0]?.headers["content-encoding"]).toBeUndefined();
      expect(seen[0]?.bodyBytes).toBe(1000);
    } finally {
      await new Promise((resolve) => stub.close(resolve));
    }
  });

  it("a body that fails mid-put rejects with the body's own error instead of hanging", async () => {
    const failure = new Error("client connection reset");
    const put = s3Storage().put(`abort/${crypto.randomUUID()}`, failingBody(new Uint8Array(100), failure), { length: 1000 });
    await expect(put).rejects.toBe(failure);
  });

  it("a body shorter than its declared length fails the put and stores nothing", async () => {
    const storage = s3Storage();
    const key = `short/${crypto.randomUUID()}`;
    await expect(storage.put(key, new Blob([new Uint8Array(10)]).stream(), { length: 1000 })).rejects.toMatchObject({
      code: "internal",
    });
    expect(await storage.get(key)).toBeNull();
  });

  it("a body longer than its declared length fails the put and stores nothing", async () => {
    const storage = s3Storage();
    const key = `long/${crypto.randomUUID()}`;
    await expect(storage.put(key, new Blob([new Uint8Array(1000)]).stream(), { length: 10 })).rejects.toMatchObject({
      code: "internal",
    });
    expect(await storage.get(key)).toBeNull();
  });

  it("a zero-length range answers no bytes and the blob's size", async () => {
    const storage = s3Storage();
    const key = `empty-range/${crypto.randomUUID()}`;
    await storage.put(key, new Blob([new Uint8Array(40)]).stream(), { length: 40 });
    const blob = await storage.get(key, { offset: 12, length: 0 });
    expect(blob?.size).toBe(40);
    expect((await new Response(blob!.body).arrayBuffer()).byteLength).toBe(0);
  });
});

describe("DynamoMetadataStore", () => {
  it("stores a key <ns>:<rest> at pk m#<ns>, sk <key>, with the JSON text in v", async () => {
    const key = `obj:${crypto.randomUUID()}/file`;
    await new DynamoMetadataStore(dynamo, TABLE).put(key, { size: 3 });
    const { Item } = await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "m#obj" }, sk: { S: key } }, ConsistentRead: true }));
    expect(Item?.v).toEqual({ S: '{"size":3}' });
  });

  it("a page that ends the listing carries no cursor, even when it is full", async () => {
    const store = new DynamoMetadataStore(dynamo, TABLE);
    const prefix = `obj:${crypto.randomUUID()}/`;
    for (const n of [1, 2, 3, 4]) await store.put(`${prefix}${n}`, n);
    const first = await store.list(prefix, { limit: 2 });
    expect(first.keys).toEqual([`${prefix}1`, `${prefix}2`]);
    expect(first.cursor).toBeDefined();
    expect(await store.list(prefix, { limit: 2, cursor: first.cursor! })).toEqual({
      keys: [`${prefix}3`, `${prefix}4`],
      cursor: undefined,
    });
  });

  it("refuses a key or prefix without a namespace", async () => {
    const store = new DynamoMetadataStore(dynamo, TABLE);
    await expect(store.put("no-namespace", 1)).rejects.toMatchObject({ code: "internal" });
    await expect(store.list("obj")).rejects.toMatchObject({ code: "internal" });
  });

  it("refuses a cursor that is not its own, or not a cursor at all", async () => {
    const store = new DynamoMetadataStore(dynamo, TABLE);
    const run = crypto.randomUUID();
    for (const n of [1, 2, 3]) await store.put(`obj:${run}/a/${n}`, n);
    const { cursor } = await store.list(`obj:${run}/a/`, { limit: 1 });
    expect(cursor).toBeDefined();
    await expect(store.list(`obj:${run}/b/`, { cursor: cursor! })).rejects.toMatchObject({ code: "bad_request" });
    await expect(store.list(`key:${run}/a/`, { cursor: cursor! })).rejects.toMatchObject({ code: "bad_request" });
    await expect(store.list(`obj:${run}/a/`, { cursor: "not base64 json" })).rejects.toMatchObject({ code: "bad_request" });
  });
});

describe("DynamoReplayStore", () => {
  it("writes pk r#<id>, sk r, and expires_at equal to the TTL attribute", async () => {
    const id = randomClaimId();
    const now = Math.floor(Date.now() / 1000);
    await new DynamoReplayStore(dynamoDBJsonClientLike(dynamo), TABLE).claim(id, { nowSeconds: now, expiresAtSeconds: now + 300 });
    const { Item } = await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `r#${id}` }, sk: { S: "r" } }, ConsistentRead: true }));
    expect(Item?.expires_at).toEqual({ N: String(now + 300) });
    expect(Item?.ttl).toEqual({ N: String(now + 300) });
  });

  it("rejects, rather than answering false, when the table cannot be used, so the caller fails closed", async () => {
    const store = new DynamoReplayStore(dynamoDBJsonClientLike(dynamo), "verigate-missing-table");
    const now = Math.floor(Date.now() / 1000);
    await expect(store.claim(randomClaimId(), { nowSeconds: now, expiresAtSeconds: now + 300 })).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});

describe("createTable", () => {
  it("can run again on an existing table", async () => {
    await expect(createTable(dynamo, TABLE)).resolves.toBeUndefined();
  });
});
