import { serveNode } from "../../../functions/aws/node-server.ts";
import { newEd25519Key } from "../../support/keys.ts";
import { RecordingLogger } from "../../support/recording-logger.ts";
import { type AwsGateway, startAwsStores } from "./aws-stores.ts";
import { wireClient } from "./wire.ts";

/**
 * The gateway on `@hono/node-server` with the AWS backends (`functions/aws/node-server.ts`) against fresh s3rver
 * and dynalite servers, on a free loopback port, with a fresh admin key and the DynamoDB replay store.
 * `vars` are PROTOCOL section 7 variables added to (or replacing) the harness's own.
 */
export async function startNodeGateway(vars: Record<string, string> = {}): Promise<AwsGateway> {
  const stores = await startAwsStores();
  const log = new RecordingLogger();
  const adminKey = await newEd25519Key();
  const admin = { keyid: "wire-admin", key: { alg: "ed25519" as const, privateKey: adminKey.privateKey }, publicKey: adminKey.publicKey };
  let server: Awaited<ReturnType<typeof serveNode>>;
  try {
    server = await serveNode({ ADMIN_KEYS: `${admin.keyid}=${admin.publicKey}`, REPLAY_STORE: "dynamodb", ...stores.vars, ...vars }, { port: 0, log });
  } catch (error) {
    await stores.stop();
    throw error;
  }
  return {
    // The lines as `consoleLogger` prints them, so assertions match what Workers and Lambda log.
    ...wireClient(server.origin, admin, () => log.lines()),
    s3Endpoint: stores.vars.S3_ENDPOINT,
    bucket: stores.bucket,
    kv: stores.kv,
    async stop() {
      await server.close();
      await stores.stop();
    },
  };
}
