import { type AttributeValue, DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import {
  assertLockLimit,
  compareLockPaths,
  type CreateLockResult,
  type LfsLock,
  type LfsLockStore,
  type LockPage,
  type LockQuery,
  type RemoveLockResult,
} from "./locks.ts";

const PARTITION_PREFIX = "l#";
/** Expressions name the `id` attribute through a placeholder, as they would a reserved word. */
const ID_NAME = { "#id": "id" } as const;
/**
 * A create that loses the race reads the winner; if the winner was unlocked in between, the path is free again and
 * the create is tried anew. Each retry needs another client to lock and unlock the path between two of our calls.
 */
const CREATE_ATTEMPTS = 5;

/**
 * Git LFS locks in the gateway's DynamoDB table (docs/STORAGE.md "Git LFS locks"): a repository's locks share the
 * partition `l#<repo>`, one item per lock at `sk = <path>` (its UTF-8 is at most the sort key's 1,024 bytes), with
 * `id`, `owner` and `locked_at` as strings. The path being the key makes "one lock per path" a conditional PutItem
 * (`attribute_not_exists(pk)`): of clients racing for a path exactly one write succeeds. Every read is consistent.
 *
 * Unlock finds the lock by id with a Query of the repository's partition filtered on `id` (no secondary index, so
 * no second item that a crash could leave out of step), then deletes it under `id = :id`: of two unlocks racing
 * for a lock exactly one deletes it, and a lock taken anew on that path (another id) is never removed by an unlock
 * of the old one. A repository holds few locks (a lock is a person's claim on a file they are editing), so that
 * Query reads one page in practice.
 */
export class DynamoLfsLockStore implements LfsLockStore {
  readonly backend = "dynamodb" as const;
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, table: string) {
    this.#client = client;
    this.#table = table;
  }

  async create(repo: string, lock: LfsLock): Promise<CreateLockResult> {
    for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
      try {
        await this.#client.send(new PutItemCommand({ TableName: this.#table, Item: lockItem(repo, lock), ConditionExpression: "attribute_not_exists(pk)" }));
        return { created: true, lock };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const existing = await this.#get(repo, lock.path);
      if (existing) return { created: false, existing };
    }
    throw new Error(`lfs lock ${repo}:${lock.path}: taken and freed again ${CREATE_ATTEMPTS} times while creating`);
  }

  async list(repo: string, query: LockQuery): Promise<LockPage> {
    assertLockLimit(query.limit);
    if (query.path !== undefined) {
      const lock = await this.#get(repo, query.path);
      const matches =
        lock !== null && (query.id === undefined || lock.id === query.id) && (query.cursor === undefined || compareLockPaths(lock.path, query.cursor) > 0);
      return { locks: matches ? [lock] : [] };
    }
    // One lock past the page says whether another page follows.
    const found = await this.#query(repo, query.limit + 1, query.cursor, query.id);
    const locks = found.slice(0, query.limit);
    return { locks, ...(found.length > query.limit ? { next_cursor: locks.at(-1)!.path } : {}) };
  }

  async remove(repo: string, id: string, owner: string, force: boolean): Promise<RemoveLockResult> {
    const [lock] = await this.#query(repo, 1, undefined, id);
    if (!lock) return { missing: true };
    if (lock.owner.name !== owner && !force) return { notOwner: lock };
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#table,
          Key: lockKey(repo, lock.path),
          ConditionExpression: "#id = :id",
          ExpressionAttributeNames: ID_NAME,
          ExpressionAttributeValues: { ":id": { S: id } },
        }),
      );
    } catch (error) {
      // Another unlock of this lock deleted it first (a new lock on the path has another id).
      if (isConditionFailure(error)) return { missing: true };
      throw error;
    }
    return { removed: lock };
  }

  async #get(repo: string, path: string): Promise<LfsLock | null> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#table, Key: lockKey(repo, path), ConsistentRead: true }));
    return Item ? lockOf(Item) : null;
  }

  /**
   * Up to `count` locks after `cursor` in path order, only lock `id` when given. The filter applies after a Query
   * page is read, so pages are read until `count` matched or the partition ends.
   */
  async #query(repo: string, count: number, cursor: string | undefined, id: string | undefined): Promise<LfsLock[]> {
    const locks: LfsLock[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: cursor === undefined ? "pk = :pk" : "pk = :pk AND sk > :cursor",
          ExpressionAttributeValues: {
            ":pk": { S: PARTITION_PREFIX + repo },
            ...(cursor === undefined ? {} : { ":cursor": { S: cursor } }),
            ...(id === undefined ? {} : { ":id": { S: id } }),
          },
          ...(id === undefined ? { Limit: count - locks.length } : { FilterExpression: "#id = :id", ExpressionAttributeNames: ID_NAME }),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) locks.push(lockOf(item));
      start = page.LastEvaluatedKey;
    } while (start && locks.length < count);
    return locks.slice(0, count);
  }
}

function lockKey(repo: string, path: string): Record<string, AttributeValue> {
  return { pk: { S: PARTITION_PREFIX + repo }, sk: { S: path } };
}

function lockItem(repo: string, lock: LfsLock): Record<string, AttributeValue> {
  return { ...lockKey(repo, lock.path), id: { S: lock.id }, owner: { S: lock.owner.name }, locked_at: { S: lock.locked_at } };
}

function lockOf(item: Record<string, AttributeValue>): LfsLock {
  return { id: item.id?.S ?? "", path: item.sk?.S ?? "", locked_at: item.locked_at?.S ?? "", owner: { name: item.owner?.S ?? "" } };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}
