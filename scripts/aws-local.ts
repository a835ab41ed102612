/**
 * `npm run start:aws-local`: the gateway on Node with the AWS backends, against s3rver and dynalite on
 * loopback, state persisted under .aws-local/. The Lambda function's code path, runnable without AWS.
 * Configured by the PROTOCOL section 7 variables in the environment plus `PORT`; the storage and table
 * settings always point at the local servers. It shares `npm start`'s dev configuration: the dev admin key
 * and `.dev.vars` (created on first use), whose variables apply unless the environment sets them.
 */
import { serveNode } from "../functions/aws/node-server.ts";
import { sweepPeriodically } from "../functions/sweep.ts";
import { devConfig } from "./dev-key.ts";
import { startLocalAws } from "./local-aws.ts";

const STATE_DIR = ".aws-local";
const BUCKET = "verigate-local";
const TABLE = "verigate-local";
/** Next to `npm start`'s 8787, so both can run at once. */
const DEFAULT_PORT = 8788;

const port = Number(process.env.PORT ?? DEFAULT_PORT);
const { vars: devVars } = await devConfig(console.log);

const local = await startLocalAws({ bucket: BUCKET, table: TABLE, s3Directory: `${STATE_DIR}/s3`, dynamodbPath: `${STATE_DIR}/dynamodb` });
const gateway = await serveNode({ ...devVars, ...process.env, ...local.vars }, { port });
const { backends } = gateway;
const stopSweeping = sweepPeriodically(backends);

console.log(`
Verigate (AWS backends: s3rver ${local.vars.S3_ENDPOINT}, dynalite ${local.vars.DYNAMODB_ENDPOINT}, state in ${STATE_DIR}/)
is listening on ${gateway.origin}. Try, in another terminal:
  curl -s ${gateway.origin}/healthz
  VERIGATE_ENDPOINT=${gateway.origin} npx node examples/whoami.ts
`);
if (backends.config.problems.length > 0) console.log(`Misconfigured: ${backends.config.problems.join(", ")}`);

async function shutdown(): Promise<void> {
  stopSweeping();
  await gateway.close();
  await local.stop();
  process.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void shutdown());
