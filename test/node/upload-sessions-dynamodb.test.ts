import { BatchWriteItemCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { TTL_ATTRIBUTE } from "../../shared/metadata/dynamodb-table.ts";
import { DynamoUploadSessionStore, partItem } from "../../shared/uploads/dynamodb.ts";
import type { SessionPart } from "../../shared/uploads/store.ts";
import { describeUploadSessionStoreContract, newSession, partOf } from "../contracts/upload-sessions.ts";
import { useDynaliteTable } from "./support/dynalite-table.ts";

const TABLE = "verigate-upload-sessions";
/** BatchWriteItem's most. */
const BATCH_ITEMS = 25;

const { client: dynamo, connect } = useDynaliteTable(TABLE);

/** The store's own part items, written 25 to a BatchWriteItem instead of three calls per part (dynalite took 20 s for 10,000). */
async function batchWriteParts(id: string, parts: SessionPart[]): Promise<void> {
  const expiresAt = Math.ceil(Date.parse(newSession().expires_at) / 1000);
  for (let at = 0; at < parts.length; at += BATCH_ITEMS) {
    const requests = parts.slice(at, at + BATCH_ITEMS).map((part) => ({ PutRequest: { Item: partItem(id, part, expiresAt) } }));
    const { UnprocessedItems } = await dynamo().send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: requests } }));
    expect(UnprocessedItems?.[TABLE] ?? []).toEqual([]);
  }
}

describeUploadSessionStoreContract("DynamoDB (dynalite)", () => new DynamoUploadSessionStore(dynamo(), TABLE), {
  backend: "dynamodb",
  fillParts: { how: "by BatchWriteItem of the store's part items", fill: batchWriteParts },
});

describe("DynamoUploadSessionStore", () => {
  it("keeps the session at u#<id>/s with rev as a number, and each part at p#<5 digits> with its digest and a TTL a week after the session's expiry", async () => {
    const store = new DynamoUploadSessionStore(dynamo(), TABLE);
    const session = newSession();
    await store.create(session);
    await store.putPart(session.id, partOf(2));
    const expiresAt = Date.parse(session.expires_at) / 1000;
    const { Item: stored } = await dynamo().send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `u#${session.id}` }, sk: { S: "s" } }, ConsistentRead: true }),
    );
    expect(stored).toEqual({
      pk: { S: `u#${session.id}` },
      sk: { S: "s" },
      v: { S: JSON.stringify(session) },
      rev: { N: "1" },
      expires_at: { N: String(expiresAt) },
    });
    const { Item: part } = await dynamo().send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `u#${session.id}` }, sk: { S: "p#00002" } }, ConsistentRead: true }),
    );
    expect(part).toEqual({
      pk: { S: `u#${session.id}` },
      sk: { S: "p#00002" },
      v: { S: JSON.stringify(partOf(2)) },
      sha256: { S: partOf(2).sha256 },
      [TTL_ATTRIBUTE]: { N: String(expiresAt + 7 * 24 * 3600) },
    });
    const claimed = { ...partOf(3), etag: "" };
    expect(await store.claimPart(session.id, claimed)).toBe("claimed");
    const { Item: claim } = await dynamo().send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `u#${session.id}` }, sk: { S: "p#00003" } }, ConsistentRead: true }),
    );
    expect(claim).toEqual({ ...part, sk: { S: "p#00003" }, v: { S: JSON.stringify(claimed) }, sha256: { S: claimed.sha256 } });
  });

  it("refuses a part number its sort key cannot order (outside 1..10,000)", async () => {
    const store = new DynamoUploadSessionStore(dynamo(), TABLE);
    const session = newSession();
    await store.create(session);
    await expect(store.putPart(session.id, partOf(10_001))).rejects.toThrow(/outside 1\.\.10000/);
    await expect(store.putPart(session.id, partOf(0))).rejects.toThrow(/outside 1\.\.10000/);
  });

  // putPart and claimPart check the session, write the part, and check again; a delete landing in either gap must not leave the part.
  it.each([
    ["putPart", "between the first check and the part's write", false, "before"],
    ["putPart", "between the part's write and the second check", false, "after"],
    ["claimPart", "between the first check and the part's write", "missing", "before"],
    ["claimPart", "between the part's write and the second check", "missing", "after"],
  ] as const)("%s: a delete landing %s leaves no part and the call answers %s", async (method, _gap, answer, when) => {
    const store = new DynamoUploadSessionStore(dynamo(), TABLE);
    const session = newSession();
    await store.create(session);
    const racing = connect();
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Item?: { sk?: { S?: string } }; Key?: { sk?: { S?: string } } };
        const writesPart =
          (context.commandName === "PutItemCommand" && input.Item?.sk?.S?.startsWith("p#")) ||
          (context.commandName === "UpdateItemCommand" && input.Key?.sk?.S?.startsWith("p#"));
        if (writesPart && when === "before") await store.delete(session.id);
        const result = await next(args);
        if (writesPart && when === "after") await store.delete(session.id);
        return result;
      },
      { step: "initialize", name: "deleteWhilePutPart" },
    );
    try {
      expect(await new DynamoUploadSessionStore(racing, TABLE)[method](session.id, partOf(1))).toBe(answer);
    } finally {
      racing.destroy();
    }
    expect(await store.listParts(session.id)).toEqual([]);
    expect(await store.get(session.id)).toBeNull();
  });

  it("a part sent while a delete is listing the partition is refused, never left behind (the session item goes first)", async () => {
    const store = new DynamoUploadSessionStore(dynamo(), TABLE);
    const session = newSession();
    await store.create(session);
    await store.putPart(session.id, partOf(1));
    let racingPut: Promise<boolean> | undefined;
    const deleting = connect();
    deleting.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === "QueryCommand" && !racingPut) {
          racingPut = store.putPart(session.id, partOf(2));
          await racingPut;
        }
        return result;
      },
      { step: "initialize", name: "putPartWhileDeleting" },
    );
    try {
      await new DynamoUploadSessionStore(deleting, TABLE).delete(session.id);
    } finally {
      deleting.destroy();
    }
    expect(await racingPut).toBe(false);
    expect(await store.listParts(session.id)).toEqual([]);
  });

  it("delete removes more items than one Query page and one BatchWriteItem hold", async () => {
    const store = new DynamoUploadSessionStore(dynamo(), TABLE);
    const session = newSession();
    await store.create(session);
    // 2,000 parts of about 600 bytes: past DynamoDB's 1 MB Query page, and 80 batches of 25.
    await batchWriteParts(
      session.id,
      Array.from({ length: 2000 }, (_, n) => ({ ...partOf(n + 1), etag: `"${"e".repeat(500)}"` })),
    );
    await store.delete(session.id);
    expect(await store.listParts(session.id)).toEqual([]);
    expect(await store.get(session.id)).toBeNull();
  });
});
