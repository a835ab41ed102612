import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { fromBase64UrlJson, toBase64UrlJson } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import { conditionHolds, type ListOptions, type ListPage, type MetadataStore, type SwapCondition, type SwapResult, tagOf } from "./index.ts";

/** The same default page as the KV and memory backends, so callers see one behaviour. */
const DEFAULT_LIST_LIMIT = 1000;

const PARTITION_PREFIX = "m#";

/**
 * Metadata in the gateway's DynamoDB table. A key `<ns>:<rest>` lives at `pk = "m#<ns>"`, `sk = <key>`, so
 * listing a prefix is one Query over one partition in the byte order of the keys; the value is its JSON text
 * in `v`. Reads are strongly consistent, unlike KV: a record is visible to the next request wherever it runs.
 */
export class DynamoMetadataStore implements MetadataStore {
  readonly backend = "dynamodb" as const;
  /** Every swap is one conditional write. */
  readonly atomicSwap = true;
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, table: string) {
    this.#client = client;
    this.#table = table;
  }

  async get<T>(key: string): Promise<T | null> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#table, Key: itemKey(key), ConsistentRead: true }));
    return parseValue<T>(Item);
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.#client.send(new PutItemCommand({ TableName: this.#table, Item: { ...itemKey(key), v: { S: JSON.stringify(value) } } }));
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: itemKey(key) }));
  }

  /**
   * Asks for one key more than the page holds, so the cursor is absent exactly when nothing follows.
   * The cursor is the table key of the page's last entry, which the next Query starts after; a Query may
   * also stop early at DynamoDB's 1 MB page, and then the same cursor resumes it.
   */
  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const pk = partitionOf(prefix);
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new VerigateError("internal", `list limit must be a positive integer, got ${limit}`);
    const start = options.cursor === undefined ? undefined : decodeCursor(options.cursor, pk, prefix);
    const output = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": { S: pk }, ":prefix": { S: prefix } },
        ProjectionExpression: "sk",
        ConsistentRead: true,
        Limit: limit + 1,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const found = (output.Items ?? []).map((item) => item.sk?.S ?? "");
    const keys = found.slice(0, limit);
    const last = keys.at(-1);
    const more = found.length > limit || output.LastEvaluatedKey !== undefined;
    return { keys, cursor: more && last !== undefined ? encodeCursor(pk, last) : undefined };
  }

  /**
   * One PutItem or DeleteItem whose ConditionExpression is the swap's condition on the tag attribute `t`, which
   * every swap writes beside `v`; ALL_OLD returns the record it replaced. A record written by `put` (or before
   * swaps existed) has no `t`: a tag condition that fails on such an item is settled by reading it, comparing the
   * tag of its value, and writing only if `v` is still that text.
   */
  async swap<T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string): Promise<SwapResult<T>> {
    try {
      return { done: true, previous: parseValue<T>(await this.#write(key, next, tagField, conditionExpression(condition))) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    if (condition.kind !== "tag") return { done: false };
    return this.#swapUntagged(key, next, condition, tagField);
  }

  /** Puts `next` with its tag, or deletes the item when `next` is null, under `condition`; resolves to the replaced item. */
  async #write(key: string, next: object | null, tagField: string, condition: Condition | undefined): Promise<Record<string, AttributeValue> | undefined> {
    const guard = condition ? { ConditionExpression: condition.expression, ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}) } : {};
    if (next === null) {
      return (await this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: itemKey(key), ReturnValues: "ALL_OLD", ...guard }))).Attributes;
    }
    const tag = tagOf(next, tagField);
    const item = { ...itemKey(key), v: { S: JSON.stringify(next) }, ...(tag === null ? {} : { t: { S: tag } }) };
    return (await this.#client.send(new PutItemCommand({ TableName: this.#table, Item: item, ReturnValues: "ALL_OLD", ...guard }))).Attributes;
  }

  async #swapUntagged<T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string): Promise<SwapResult<T>> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#table, Key: itemKey(key), ConsistentRead: true }));
    const text = Item?.v?.S;
    if (Item?.t !== undefined || text === undefined) return { done: false };
    const previous = JSON.parse(text) as T;
    if (!conditionHolds(condition, previous, tagField)) return { done: false };
    const unchanged = { expression: "attribute_not_exists(t) AND v = :old", values: { ":old": { S: text } } };
    try {
      await this.#write(key, next, tagField, unchanged);
      return { done: true, previous };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { done: false };
      throw error;
    }
  }
}

interface Condition {
  expression: string;
  values?: Record<string, AttributeValue>;
}

function conditionExpression(condition: SwapCondition): Condition | undefined {
  switch (condition.kind) {
    case "any":
      return undefined;
    case "absent":
      return { expression: "attribute_not_exists(pk)" };
    case "present":
      return { expression: "attribute_exists(pk)" };
    case "tag":
      return { expression: "t = :tag", values: { ":tag": { S: condition.tag } } };
  }
}

function parseValue<T>(item: Record<string, AttributeValue> | undefined): T | null {
  const text = item?.v?.S;
  return text === undefined ? null : (JSON.parse(text) as T);
}

function itemKey(key: string): Record<string, AttributeValue> {
  return { pk: { S: partitionOf(key) }, sk: { S: key } };
}

/** Every metadata key and list prefix starts with its namespace and a colon (docs/STORAGE.md). */
function partitionOf(keyOrPrefix: string): string {
  const colon = keyOrPrefix.indexOf(":");
  if (colon <= 0) throw new VerigateError("internal", `metadata key or prefix without a namespace: ${keyOrPrefix}`);
  return PARTITION_PREFIX + keyOrPrefix.slice(0, colon);
}

function encodeCursor(pk: string, sk: string): string {
  return toBase64UrlJson({ pk, sk });
}

/** A cursor comes back from a client, so it must name a key of the very listing it continues. */
function decodeCursor(cursor: string, pk: string, prefix: string): Record<string, AttributeValue> {
  let parsed: unknown;
  try {
    parsed = fromBase64UrlJson(cursor);
  } catch (error) {
    throw new VerigateError("bad_request", "list cursor is not base64url JSON", { cause: error });
  }
  const { pk: cursorPk, sk } = (parsed ?? {}) as { pk?: unknown; sk?: unknown };
  if (cursorPk !== pk || typeof sk !== "string" || !sk.startsWith(prefix)) {
    throw new VerigateError("bad_request", "list cursor belongs to another listing");
  }
  return { pk: { S: pk }, sk: { S: sk } };
}
