import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { createTable } from "../../../shared/metadata/dynamodb-table.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, type LocalServer, startDynalite } from "./aws-local.ts";

/**
 * The calling test file's own dynalite with `table` created in it, started before the file's tests and stopped after
 * them: `client()` is the file's client, `connect()` a further one to the same dynalite (a test that races two
 * clients; it destroys it). Both are usable once the tests run.
 */
export function useDynaliteTable(table: string): { client: () => DynamoDBClient; connect: () => DynamoDBClient } {
  let dynalite: LocalServer | undefined;
  let dynamo: DynamoDBClient | undefined;
  beforeAll(async () => {
    dynalite = await startDynalite();
    dynamo = connectTo(dynalite);
    await createTable(dynamo, table);
  });
  afterAll(async () => {
    dynamo?.destroy();
    await dynalite?.stop();
  });
  const started = (): LocalServer => {
    if (!dynalite) throw new Error("dynalite is not started: call the client from a test or hook");
    return dynalite;
  };
  return { client: () => (started(), dynamo as DynamoDBClient), connect: () => connectTo(started()) };
}

function connectTo(dynalite: LocalServer): DynamoDBClient {
  return new DynamoDBClient({ endpoint: dynalite.endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
}
