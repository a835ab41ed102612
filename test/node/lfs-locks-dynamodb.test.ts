import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoLfsLockStore } from "../../shared/lfs/locks-dynamodb.ts";
import { describeLfsLockStoreContract, newLock } from "../contracts/lfs-locks.ts";
import { useDynaliteTable } from "./support/dynalite-table.ts";

const TABLE = "verigate-lfs-locks";

const { client: dynamo } = useDynaliteTable(TABLE);

describeLfsLockStoreContract("DynamoDB (dynalite)", () => new DynamoLfsLockStore(dynamo(), TABLE), "dynamodb");

describe("DynamoLfsLockStore", () => {
  it("keeps each lock at l#<repo> / <path> with id, owner and locked_at as strings", async () => {
    const store = new DynamoLfsLockStore(dynamo(), TABLE);
    const repo = `ddb-${crypto.randomUUID().slice(0, 8)}`;
    const lock = newLock("a/b.bin", "alice");
    await store.create(repo, lock);
    const { Item } = await dynamo().send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `l#${repo}` }, sk: { S: "a/b.bin" } }, ConsistentRead: true }));
    expect(Item).toEqual({
      pk: { S: `l#${repo}` },
      sk: { S: "a/b.bin" },
      id: { S: lock.id },
      owner: { S: "alice" },
      locked_at: { S: lock.locked_at },
    });
  });
});
