import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand, waitUntilTableExists } from "@aws-sdk/client-dynamodb";

/** The attribute DynamoDB's TTL sweeper reads (epoch seconds); replay claims and upload session parts carry it. */
export const TTL_ATTRIBUTE = "ttl";

/** dynalite answers ACTIVE at once; real DynamoDB takes seconds, well inside this bound. */
const TABLE_ACTIVE_TIMEOUT_SECONDS = 120;

/**
 * Creates the gateway's single table (partition key `pk`, sort key `sk`, both strings, on-demand billing,
 * TTL on `ttl`) unless it exists, and waits until it is usable. For local runs and tests: deployments
 * declare the same schema in the SAM template. docs/STORAGE.md lists what lives in it.
 */
export async function createTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === "ResourceInUseException")) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: TABLE_ACTIVE_TIMEOUT_SECONDS }, { TableName: name });
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
      }),
    );
  } catch (error) {
    // dynalite has no TTL at all, and DynamoDB refuses to enable TTL twice. Either is harmless: TTL only
    // reclaims space, while every claim is judged by its own `expires_at`.
    const unsupported = error instanceof Error && error.name === "UnknownOperationException";
    const alreadyOn = error instanceof Error && error.name === "ValidationException" && /already enabled/i.test(error.message);
    if (!unsupported && !alreadyOn) throw error;
  }
}
