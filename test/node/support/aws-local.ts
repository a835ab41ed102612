import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Local stand-ins for S3 and DynamoDB on loopback, for tests and `npm run start:aws-local`.
 * Both packages are CommonJS without type declarations; the subset used here is declared below.
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

type Dynalite = (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;

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

/** s3rver on a free loopback port, storing in a fresh temporary directory that `stop` removes. */
export async function startS3rver(bucket = "verigate-local"): Promise<LocalS3> {
  const S3rver = require("s3rver") as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), "verigate-s3rver-"));
  const server = new S3rver({ address: LOOPBACK, port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** dynalite in memory on a free loopback port; tables become ACTIVE at once instead of after dynalite's default 500 ms. */
export async function startDynalite(): Promise<LocalServer> {
  const dynalite = require("dynalite") as Dynalite;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("dynalite did not bind a TCP port");
  return {
    endpoint: `http://${LOOPBACK}:${address.port}`,
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
