import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context } from "hono";
import type { Config } from "../../shared/config/index.ts";
import { consoleLogger, type Logger } from "../../shared/log.ts";
import { DynamoMetadataStore } from "../../shared/metadata/dynamodb.ts";
import { dynamoDBJsonClientLike } from "../../shared/aws/dynamodb-json-from-sdk.ts";
import { nodeStreams } from "../../shared/streams/node.ts";
import { MemoryRateLimiter } from "../../shared/ratelimit/memory.ts";
import { DynamoReplayStore } from "../../shared/replay/dynamodb.ts";
import { MemoryReplayStore } from "../../shared/replay/memory.ts";
import { S3ObjectStorage } from "../../shared/storage/s3.ts";
import { DynamoUploadSessionStore } from "../../shared/uploads/dynamodb.ts";
import { DynamoLfsLockStore } from "../../shared/lfs/locks-dynamodb.ts";
import type { AppEnv, Backends } from "../context.ts";

/**
 * The Workers limits of wrangler.toml (1,000 requests per 10 s per client address and per keyid), counted
 * per process: exact for one Node server, per execution environment on Lambda, where the function's
 * reserved concurrency is the outer bound.
 */
const RATE_LIMIT_REQUESTS = 1000;
const RATE_LIMIT_PERIOD_SECONDS = 10;

/**
 * `DYNAMODB_ENDPOINT` is for local servers only (PROTOCOL section 7), which check neither region nor
 * signature; fixed placeholders keep a developer's real AWS credentials from signing requests to them.
 */
const LOCAL_DYNAMODB = { region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } } as const;

export interface AwsBackendOptions {
  /** The client's address as the runtime knows it: never a header the client could set. */
  clientAddress: (c: Context<AppEnv>) => string;
  log?: Logger;
}

/**
 * S3 for bytes, DynamoDB for manifests, keys, nonces, upload sessions and LFS locks. Built once per process (per Lambda execution
 * environment): the SDK clients keep their connections between requests.
 */
export function awsBackends(config: Readonly<Config>, options: AwsBackendOptions): Backends {
  const log = options.log ?? consoleLogger;
  // The SDK's default handler already keeps connections alive (up to 50 sockets): 1,200 replay claims at concurrency
  // 10 against dynalite closed no connection (none in TIME_WAIT), and an explicit keep-alive agent or
  // accountIdEndpointMode "disabled" changed the client CPU per call (0.8-1.6 ms under load 7) by no more than the noise.
  const dynamodb = config.dynamodbEndpoint ? new DynamoDBClient({ endpoint: config.dynamodbEndpoint, ...LOCAL_DYNAMODB }) : new DynamoDBClient({});
  // Replay claims, one per signed request, go through the lean client: the SDK's per-call CPU (about 0.7 ms) was the
  // largest share of a signed request's cost. It signs with this client's credentials and endpoint (docs/STORAGE.md).
  const dynamodbJson = dynamoDBJsonClientLike(dynamodb);
  // Constructed even when misconfigured (an empty bucket or table name): the guard refuses every route
  // that would touch them, as it does for a missing binding on Workers.
  const table = config.dynamodbTable ?? "";
  const s3 = config.s3 ?? { endpoint: undefined, region: "auto", bucket: "", accessKeyId: undefined, secretAccessKey: undefined };
  const backends: Backends = {
    config,
    replay: config.replayStore === "memory" ? new MemoryReplayStore() : new DynamoReplayStore(dynamodbJson, table),
    metadata: new DynamoMetadataStore(dynamodb, table),
    storage: new S3ObjectStorage(s3),
    uploads: new DynamoUploadSessionStore(dynamodb, table),
    lfsLocks: new DynamoLfsLockStore(dynamodb, table),
    streams: nodeStreams,
    clock: Date.now,
    log,
    limits: {
      perClient: new MemoryRateLimiter(RATE_LIMIT_REQUESTS, RATE_LIMIT_PERIOD_SECONDS),
      perKey: new MemoryRateLimiter(RATE_LIMIT_REQUESTS, RATE_LIMIT_PERIOD_SECONDS),
    },
    clientAddress: options.clientAddress,
  };
  // A storage URL hands out bytes the gateway never checks; the operator should see that choice in the log.
  if (config.presignStorage) log.log("warn", "presign_storage_enabled", { bucket_configured: config.s3 !== undefined });
  return backends;
}
