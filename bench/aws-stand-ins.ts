/**
 * Child process of `npm run bench`: s3rver and dynalite on loopback, in a process of their own so the
 * gateway under test does not share its event loop with them. Prints `{"ready": {...}}`, stops on SIGTERM.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createTable } from "../shared/metadata/dynamodb-table.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, startDynalite, startS3rver } from "../test/node/support/aws-local.ts";

const TABLE = "verigate-bench";

const [s3, dynalite] = await Promise.all([startS3rver("verigate-bench"), startDynalite()]);
const dynamodb = new DynamoDBClient({ endpoint: dynalite.endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
await createTable(dynamodb, TABLE);
dynamodb.destroy();

process.once("SIGTERM", () => {
  void Promise.allSettled([s3.stop(), dynalite.stop()]).then(() => process.exit(0));
});
console.log(
  JSON.stringify({
    ready: {
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: LOCAL_AWS_REGION,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      DYNAMODB_TABLE: TABLE,
    },
  }),
);
