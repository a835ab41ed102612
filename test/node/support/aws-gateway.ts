import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { serveNode } from "../../../functions/aws/node-server.ts";
import type { Logger } from "../../../shared/log.ts";
import { DynamoMetadataStore } from "../../../shared/metadata/dynamodb.ts";
import { createS3Client } from "../../../shared/storage/s3-client.ts";
import { S3ObjectStorage } from "../../../shared/storage/s3.ts";
import { newEd25519Key } from "../../support/keys.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, startLocalAws } from "../../../scripts/local-aws.ts";
import { type GatewayHarness, type LogEvent, type ManifestAccess, wireClient } from "./wire.ts";

const TABLE = "verigate-harness";

/** The AWS harness: what every contract suite uses, and where its S3 stand-in listens. */
export interface AwsGateway extends GatewayHarness {
  /** s3rver's origin, the host a storage presigned URL must name. */
  s3Endpoint: string;
}

/**
 * The gateway on `@hono/node-server` with the AWS backends (`functions/aws/node-server.ts`) against fresh s3rver
 * and dynalite servers, on a free loopback port, with a fresh admin key and the DynamoDB replay store.
 * `vars` are PROTOCOL section 7 variables added to (or replacing) the harness's own.
 */
export async function startAwsGateway(vars: Record<string, string> = {}): Promise<AwsGateway> {
  const s3Directory = await mkdtemp(join(tmpdir(), "verigate-aws-gateway-"));
  const local = await startLocalAws({ bucket: "verigate-harness", table: TABLE, s3Directory });
  const { vars: localVars } = local;
  // The harness's own clients, separate from the gateway's: what they write happens behind its back.
  const s3Client = createS3Client({
    endpoint: localVars.S3_ENDPOINT,
    region: localVars.S3_REGION,
    bucket: localVars.S3_BUCKET,
    accessKeyId: localVars.S3_ACCESS_KEY_ID,
    secretAccessKey: localVars.S3_SECRET_ACCESS_KEY,
  });
  const dynamodb = new DynamoDBClient({ endpoint: localVars.DYNAMODB_ENDPOINT, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
  const storage = new S3ObjectStorage(s3Client, localVars.S3_BUCKET);
  const metadata = new DynamoMetadataStore(dynamodb, TABLE);
  const stopServers = async () => {
    dynamodb.destroy();
    s3Client.destroy();
    await local.stop();
    await rm(s3Directory, { recursive: true, force: true });
  };
  const logged: LogEvent[] = [];
  const log: Logger = {
    // The same JSON shape `consoleLogger` prints, so assertions match what Workers logs (undefined fields dropped).
    log: (level, event, fields = {}) => void logged.push(JSON.parse(JSON.stringify({ level, event, time: new Date().toISOString(), ...fields }))),
  };
  const adminKey = await newEd25519Key();
  const admin = { keyid: "wire-admin", key: { alg: "ed25519" as const, privateKey: adminKey.privateKey }, publicKey: adminKey.publicKey };
  let server: Awaited<ReturnType<typeof serveNode>>;
  try {
    server = await serveNode({ ADMIN_KEYS: `${admin.keyid}=${admin.publicKey}`, REPLAY_STORE: "dynamodb", ...localVars, ...vars }, { port: 0, log });
  } catch (error) {
    await stopServers();
    throw error;
  }
  return {
    ...wireClient(server.origin, admin, logged),
    s3Endpoint: localVars.S3_ENDPOINT,
    bucket: {
      async get(blobKey) {
        const stored = await storage.get(blobKey);
        return stored && new Response(stored.body);
      },
      put: (blobKey, bytes) => storage.put(blobKey, new Blob([bytes]).stream(), { length: bytes.byteLength }),
      list: async ({ prefix }) => ({ objects: (await listBlobs(s3Client, localVars.S3_BUCKET, prefix)).map((key) => ({ key })) }),
    },
    kv: {
      get: (async (key: string, type?: "json") => {
        const value = await metadata.get(key);
        return type === "json" || value === null ? value : JSON.stringify(value);
      }) as ManifestAccess["get"],
      list: async ({ prefix }) => ({ keys: (await listRecords(metadata, prefix)).map((name) => ({ name })) }),
    },
    async stop() {
      await server.close();
      await stopServers();
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
