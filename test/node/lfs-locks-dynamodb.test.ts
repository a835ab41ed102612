import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTable } from "../../shared/metadata/dynamodb-table.ts";
import { DynamoLfsLockStore } from "../../shared/lfs/locks-dynamodb.ts";
import { describeLfsLockStoreContract, newLock } from "../contracts/lfs-locks.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, type LocalServer, startDynalite } from "./support/aws-local.ts";

const TABLE = "verigate-lfs-locks";

let dynalite: LocalServer;
let dynamo: DynamoDBClient;

beforeAll(async () => {
  dynalite = await startDynalite();
  dynamo = new DynamoDBClient({ endpoint: dynalite.endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
  await createTable(dynamo, TABLE);
});

afterAll(async () => {
  dynamo?.destroy();
  await dynalite?.stop();
});

describeLfsLockStoreContract("DynamoDB (dynalite)", () => new DynamoLfsLockStore(dynamo, TABLE), "dynamodb");

describe("DynamoLfsLockStore", () => {
  it("keeps each lock at l#<repo> / <path> with id, owner and locked_at as strings", async () => {
    const store = new DynamoLfsLockStore(dynamo, TABLE);
    const repo = `ddb-${crypto.randomUUID().slice(0, 8)}`;
    const lock = newLock("a/b.bin", "alice");
    await store.create(repo, lock);
    const { Item } = await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `l#${repo}` }, sk: { S: "a/b.bin" } }, ConsistentRead: true }));
    expect(Item).toEqual({
      pk: { S: `l#${repo}` },
      sk: { S: "a/b.bin" },
      id: { S: lock.id },
      owner: { S: "alice" },
      locked_at: { S: lock.locked_at },
    });
  });
});
