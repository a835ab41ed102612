import type { DynamoDBJsonClient } from "../aws/dynamodb-json-client.ts";
import { TTL_ATTRIBUTE } from "../metadata/dynamodb-table.ts";
import type { ClaimWindow, ReplayStore } from "./index.ts";

const PARTITION_PREFIX = "r#";
const SORT_KEY = "r";

/**
 * Claims in the gateway's DynamoDB table (the metadata's table; see docs/STORAGE.md): one conditional
 * PutItem, which DynamoDB applies atomically per item, so of two concurrent claims exactly one succeeds.
 * DynamoDB's TTL deletes expired items lazily (up to days later), so an item still present may be long
 * expired: the condition compares its `expires_at` with the caller's clock instead of trusting TTL.
 * Sent by the lean JSON client (every signed request claims, and the SDK's per-call CPU halved the signed rate);
 * it retries throttled and failed calls as the SDK did, and a retry whose first attempt did land finds its own
 * claim and answers false, so a lost response costs one refused request, never an accepted replay.
 * Any other error propagates: the caller answers 503 `replay_store_unavailable` (fail closed).
 */
export class DynamoReplayStore implements ReplayStore {
  readonly backend = "dynamodb" as const;
  readonly atomic = true;
  readonly #client: DynamoDBJsonClient;
  readonly #table: string;

  constructor(client: DynamoDBJsonClient, table: string) {
    this.#client = client;
    this.#table = table;
  }

  async claim(id: string, { nowSeconds, expiresAtSeconds }: ClaimWindow): Promise<boolean> {
    const expiresAt = { N: String(expiresAtSeconds) };
    try {
      await this.#client.send("PutItem", {
        TableName: this.#table,
        Item: { pk: { S: PARTITION_PREFIX + id }, sk: { S: SORT_KEY }, expires_at: expiresAt, [TTL_ATTRIBUTE]: expiresAt },
        ConditionExpression: "attribute_not_exists(pk) OR expires_at < :now",
        ExpressionAttributeValues: { ":now": { N: String(nowSeconds) } },
      });
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }
}
