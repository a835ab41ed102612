import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { DynamoMetadataStore } from "../../../shared/metadata/dynamodb.ts";
import { createS3Client } from "../../../shared/storage/s3-client.ts";
import { S3ObjectStorage } from "../../../shared/storage/s3.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, type LocalAwsVars, startLocalAws } from "../../../scripts/local-aws.ts";
import type { GatewayHarness } from "./wire.ts";

const TABLE = "verigate-harness";

/** A gateway on the AWS stores (the Node and Lambda builds): what every HTTP suite uses, and where its S3 stand-in listens. */
export interface AwsGateway extends GatewayHarness {
  /** s3rver's origin, the host a storage presigned URL must name. */
  s3Endpoint: string;
}

/** Fresh s3rver and dynalite servers for one AWS-backed gateway, and the harness's own way into them. */
export interface AwsStores extends Pick<GatewayHarness, "bucket" | "kv"> {
  /** The PROTOCOL section 7 variables that point a gateway at these servers. */
  vars: LocalAwsVars;
  stop(): Promise<void>;
}

/**
 * The stores both AWS builds (the Node server and the Lambda handler) run on, with the bucket and table created.
 * `bucket` and `kv` are the harness's own clients, separate from the gateway's: what they write happens behind
 * its back, with R2's and KV's method shapes so a suite tampers alike on every build.
 */
export async function startAwsStores(): Promise<AwsStores> {
  const s3Directory = await mkdtemp(join(tmpdir(), "verigate-aws-gateway-"));
  const local = await startLocalAws({ bucket: "verigate-harness", table: TABLE, s3Directory });
  const { vars } = local;
  const s3Client = createS3Client({
    endpoint: vars.S3_ENDPOINT,
    region: vars.S3_REGION,
    bucket: vars.S3_BUCKET,
    accessKeyId: vars.S3_ACCESS_KEY_ID,
    secretAccessKey: vars.S3_SECRET_ACCESS_KEY,
  });
  const dynamodb = new DynamoDBClient({ endpoint: vars.DYNAMODB_ENDPOINT, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
  const storage = new S3ObjectStorage(s3Client, vars.S3_BUCKET);
  const metadata = new DynamoMetadataStore(dynamodb, TABLE);
  return {
    vars,
    bucket: {
      async get(blobKey) {
        const stored = await storage.get(blobKey);
        return stored && new Response(stored.body);
      },
      put: (blobKey, bytes) => storage.put(blobKey, new Blob([bytes]).stream(), { length: bytes.byteLength }),
      list: async ({ prefix }) => ({ objects: (await listBlobs(s3Client, vars.S3_BUCKET, prefix)).map((key) => ({ key })) }),
    },
    kv: {
      get: (async (key: string, type?: "json") => {
        const value = await metadata.get(key);
        return type === "json" || value === null ? value : JSON.stringify(value);
      }) as GatewayHarness["kv"]["get"],
      put: (key, value) => metadata.put(key, JSON.parse(value)),
      list: async ({ prefix }) => ({ keys: (await listRecords(metadata, prefix)).map((name) => ({ name })) }),
    },
    async stop() {
      dynamodb.destroy();
      s3Client.destroy();
      await local.stop();
      await rm(s3Directory, { recursive: true, force: true });
    },
  };
}

/** Every blob key under `prefix`, as R2's `list` gives them. */
async function listBlobs(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** Every metadata key under `prefix`, across pages. */
async function listRecords(metadata: DynamoMetadataStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await metadata.list(prefix, cursor ? { cursor } : {});
    keys.push(...page.keys);
    cursor = page.cursor;
  } while (cursor);
  return keys;
}
