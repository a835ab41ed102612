import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createTable } from "../shared/metadata/dynamodb-table.ts";

/**
 * Local stand-ins for S3 (s3rver) and DynamoDB (dynalite) on loopback, for `npm run start:aws-local` and
 * the tests. Both packages are CommonJS without type declarations; the subset used here is declared below.
 */
const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

type Dynalite = (options: { path?: string; createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;

/** A local server: its origin, for an SDK client's `endpoint`, and how to stop it. */
export interface LocalServer {
  endpoint: string;
  stop: () => Promise<void>;
}

export interface LocalS3 extends LocalServer {
  /** Created before the server answers its first request. */
  bucket: string;
  /** s3rver only knows this one key pair; any other access key id is refused with InvalidAccessKeyId. */
  accessKeyId: string;
  secretAccessKey: string;
}

/** The region the local servers are addressed with; neither of them checks it. */
export const LOCAL_AWS_REGION = "us-east-1";

/** Any static pair works for dynalite, which does not check signatures. */
export const LOCAL_DYNAMODB_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

const LOOPBACK = "127.0.0.1";

/** s3rver on loopback (a free port unless `port` is given), keeping its objects in `directory`. */
export async function runS3rver(options: { bucket: string; directory: string; port?: number }): Promise<LocalS3> {
  const S3rver = require("s3rver") as S3rverConstructor;
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: LOOPBACK,
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    configureBuckets: [{ name: options.bucket }],
  });
  const { port } = await server.run();
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    bucket: options.bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    stop: () => server.close(),
  };
}

/**
 * dynalite on loopback (a free port unless `port` is given), persisted under `path` or in memory without it.
 * Tables become ACTIVE at once instead of after dynalite's default 500 ms.
 */
export async function runDynalite(options: { path?: string; port?: number } = {}): Promise<LocalServer> {
  const dynalite = require("dynalite") as Dynalite;
  if (options.path) await mkdir(options.path, { recursive: true });
  const server = dynalite({ ...(options.path ? { path: options.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("dynalite did not bind a TCP port");
  return {
    endpoint: `http://${LOOPBACK}:${address.port}`,
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** The PROTOCOL section 7 variables that point a gateway at local stand-ins. */
export interface LocalAwsVars {
  S3_ENDPOINT: string;
  S3_REGION: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  DYNAMODB_ENDPOINT: string;
  DYNAMODB_TABLE: string;
}

/**
 * s3rver and dynalite with the bucket and the gateway's table created, and the variables that configure a
 * gateway for them. dynalite persists under `dynamodbPath`, or keeps its data in memory without it.
 */
export async function startLocalAws(options: { bucket: string; table: string; s3Directory: string; dynamodbPath?: string }): Promise<{
  vars: LocalAwsVars;
  stop: () => Promise<void>;
}> {
  const [s3, dynalite] = await Promise.all([
    runS3rver({ bucket: options.bucket, directory: options.s3Directory }),
    runDynalite(options.dynamodbPath ? { path: options.dynamodbPath } : {}),
  ]);
  const stop = async () => {
    await Promise.all([s3.stop(), dynalite.stop()]);
  };
  const dynamodb = new DynamoDBClient({ endpoint: dynalite.endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
  try {
    await createTable(dynamodb, options.table);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    dynamodb.destroy();
  }
  return {
    vars: {
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: LOCAL_AWS_REGION,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      DYNAMODB_TABLE: options.table,
    },
    stop,
  };
}
