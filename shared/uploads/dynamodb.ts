import {
  type AttributeValue,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { TTL_ATTRIBUTE } from "../metadata/dynamodb-table.ts";
import { assertNextRev, type PartClaim, type SessionPart, type UploadSession, type UploadSessionStore } from "./store.ts";

const PARTITION_PREFIX = "u#";
const SESSION_SORT_KEY = "s";
const PART_SORT_PREFIX = "p#";
/** R2's and S3's part numbers are 1 to 10,000: five zero-padded digits keep the sort key's byte order numeric. */
const PART_DIGITS = 5;
const MAX_PART_NUMBER = 10_000;
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_ITEMS = 25;
/** Unprocessed items (throttling) are sent again after 50, 100, 200 ... ms; then the delete fails and can be retried whole. */
const BATCH_RETRIES = 8;
const BATCH_RETRY_BASE_MS = 50;
/**
 * A part item left behind by a crash between its write and the check after it (below) expires this long after its
 * session did, a wide margin past the session's end (an expired session is swept with its parts). DynamoDB's TTL
 * deletes lazily, within days, which only delays reclaiming the space.
 */
const ORPHAN_PART_TTL_SECONDS = 7 * 24 * 3600;
/** `claimPart` before the part is stored (empty ETag): a record of the same digest keeps the ETag it has. */
const CLAIM_PART = "SET #v = if_not_exists(#v, :v), #ttl = if_not_exists(#ttl, :ttl), #sha256 = :sha256";
/** `claimPart` with the store's ETag: replaces a record of the same digest. */
const RECORD_CLAIMED_PART = "SET #v = :v, #ttl = :ttl, #sha256 = :sha256";

/**
 * Upload sessions in the gateway's DynamoDB table (docs/STORAGE.md "Upload sessions"): a session's items share the
 * partition `u#<id>`; `sk = s` is the session (its JSON in `v`, `rev` as a number for the compare-and-set, `expires_at`
 * in epoch seconds for its parts' TTL), `sk = p#<part, 5 digits>` one part each (JSON in `v`). Every read is strongly
 * consistent. A session stays well under DynamoDB's 400 KB item: its largest field is `progress`, where verification
 * keeps the digest tree builder's state, at most about 150 KB at any object size.
 *
 * DynamoDB cannot make a part's write conditional on another item without a transaction (which dynalite, the local
 * stand-in, lacks), so `putPart` checks, writes, and checks again, while `delete` removes the session item before its
 * parts: a part written while a delete runs is either seen by the delete's Query (it was written before the session
 * item went) or seen missing by the second check, which deletes the part and answers false. Only a crash between the
 * write and the second check leaves a part behind, and TTL removes it (`ORPHAN_PART_TTL_SECONDS`). `claimPart` is the
 * same three steps around one conditional UpdateItem on the part item alone, which needs no transaction: the part's
 * digest is also kept as the attribute `sha256` for its condition.
 */
export class DynamoUploadSessionStore implements UploadSessionStore {
  readonly backend = "dynamodb" as const;
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, table: string) {
    this.#client = client;
    this.#table = table;
  }

  async create(session: UploadSession): Promise<boolean> {
    return this.#putSession(session, { ConditionExpression: "attribute_not_exists(pk)" });
  }

  async get(id: string): Promise<UploadSession | null> {
    const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#table, Key: sessionKey(id), ConsistentRead: true }));
    return Item?.v?.S === undefined ? null : (JSON.parse(Item.v.S) as UploadSession);
  }

  /** A missing item has no `rev`, so the condition fails for a deleted session too. */
  async update(next: UploadSession, expectedRev: number): Promise<boolean> {
    assertNextRev(next, expectedRev);
    return this.#putSession(next, { ConditionExpression: "rev = :expected", ExpressionAttributeValues: { ":expected": { N: String(expectedRev) } } });
  }

  async putPart(id: string, part: SessionPart): Promise<boolean> {
    const written = await this.#whileSessionExists(id, part.part, async (expiresAt) => {
      await this.#client.send(new PutItemCommand({ TableName: this.#table, Item: partItem(id, part, expiresAt) }));
      return true;
    });
    return written ?? false;
  }

  /**
   * `judgeClaim` as one conditional UpdateItem: the condition refuses another digest, `if_not_exists` keeps a
   * recorded ETag from an empty one, and the item as it was before says whether the part had a record.
   */
  async claimPart(id: string, part: SessionPart): Promise<PartClaim> {
    const claim = await this.#whileSessionExists(id, part.part, async (expiresAt): Promise<PartClaim> => {
      const values = partValues(part, expiresAt);
      try {
        const { Attributes } = await this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: partKey(id, part.part),
            UpdateExpression: part.etag === "" ? CLAIM_PART : RECORD_CLAIMED_PART,
            ConditionExpression: "attribute_not_exists(sk) OR #sha256 = :sha256",
            ExpressionAttributeNames: { "#v": "v", "#ttl": TTL_ATTRIBUTE, "#sha256": "sha256" },
            ExpressionAttributeValues: { ":v": values.v, ":ttl": values.ttl, ":sha256": values.sha256 },
            ReturnValues: "ALL_OLD",
          }),
        );
        return Attributes === undefined ? "claimed" : "same";
      } catch (error) {
        if (error instanceof Error && error.name === "ConditionalCheckFailedException") return "conflict";
        throw error;
      }
    });
    return claim ?? "missing";
  }

  async listParts(id: string): Promise<SessionPart[]> {
    const parts: SessionPart[] = [];
    for await (const items of this.#pages(id, "v", PART_SORT_PREFIX)) {
      for (const item of items) if (item.v?.S !== undefined) parts.push(JSON.parse(item.v.S) as SessionPart);
    }
    return parts;
  }

  /**
   * The session item first, so no `putPart` can succeed once the parts are being listed (see the class comment);
   * then every item left in the partition, so a delete that failed half way is finished by running it again.
   */
  async delete(id: string): Promise<void> {
    await this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: sessionKey(id) }));
    for await (const keys of this.#pages(id, "pk, sk")) {
      for (let at = 0; at < keys.length; at += BATCH_WRITE_ITEMS) await this.#deleteBatch(keys.slice(at, at + BATCH_WRITE_ITEMS));
    }
  }

  /** The items of session `id`'s partition (those whose sort key starts with `sortPrefix`), one consistent Query page at a time. */
  async *#pages(id: string, projection: string, sortPrefix?: string): AsyncGenerator<Record<string, AttributeValue>[]> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: sortPrefix === undefined ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": { S: PARTITION_PREFIX + id }, ...(sortPrefix === undefined ? {} : { ":prefix": { S: sortPrefix } }) },
          ProjectionExpression: projection,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      yield page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async #putSession(session: UploadSession, condition: Pick<PutItemCommand["input"], "ConditionExpression" | "ExpressionAttributeValues">): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...sessionKey(session.id),
            v: { S: JSON.stringify(session) },
            rev: { N: String(session.rev) },
            expires_at: { N: String(Math.ceil(Date.parse(session.expires_at) / 1000)) },
          },
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  /**
   * Runs `write` of part `part` of session `id` between two checks that the session exists (see the class comment);
   * null when it did not, or went meanwhile (the part item is then deleted).
   */
  async #whileSessionExists<T>(id: string, part: number, write: (sessionExpiresAt: number) => Promise<T>): Promise<T | null> {
    const expiresAt = await this.#sessionExpiry(id);
    if (expiresAt === null) return null;
    const result = await write(expiresAt);
    if ((await this.#sessionExpiry(id)) !== null) return result;
    await this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: partKey(id, part) }));
    return null;
  }

  /** The session's expiry in epoch seconds, or null when there is no session. */
  async #sessionExpiry(id: string): Promise<number | null> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: sessionKey(id), ConsistentRead: true, ProjectionExpression: "expires_at" }),
    );
    return Item?.expires_at?.N === undefined ? null : Number(Item.expires_at.N);
  }

  async #deleteBatch(keys: Record<string, AttributeValue>[]): Promise<void> {
    let pending = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > BATCH_RETRIES) throw new Error(`upload session items: ${pending.length} deletes still unprocessed after ${BATCH_RETRIES} retries`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, BATCH_RETRY_BASE_MS * 2 ** (attempt - 1)));
      const { UnprocessedItems } = await this.#client.send(new BatchWriteItemCommand({ RequestItems: { [this.#table]: pending } }));
      pending = (UnprocessedItems?.[this.#table] ?? []).flatMap((request) =>
        request.DeleteRequest?.Key ? [{ DeleteRequest: { Key: request.DeleteRequest.Key } }] : [],
      );
    }
  }
}

function sessionKey(id: string): Record<string, AttributeValue> {
  return { pk: { S: PARTITION_PREFIX + id }, sk: { S: SESSION_SORT_KEY } };
}

/** The item of one part of session `id`, which expires at `sessionExpiresAt` (epoch seconds); the tests fill sessions with it. */
export function partItem(id: string, part: SessionPart, sessionExpiresAt: number): Record<string, AttributeValue> {
  const { v, sha256, ttl } = partValues(part, sessionExpiresAt);
  return { ...partKey(id, part.part), v, sha256, [TTL_ATTRIBUTE]: ttl };
}

/** A part item's attributes: the part as JSON, its digest on its own for `claimPart`'s condition, and its TTL. */
function partValues(part: SessionPart, sessionExpiresAt: number): Record<"v" | "sha256" | "ttl", AttributeValue> {
  return { v: { S: JSON.stringify(part) }, sha256: { S: part.sha256 }, ttl: { N: String(sessionExpiresAt + ORPHAN_PART_TTL_SECONDS) } };
}

function partKey(id: string, part: number): Record<string, AttributeValue> {
  if (!Number.isInteger(part) || part < 1 || part > MAX_PART_NUMBER)
    throw new Error(`upload session ${id}: part number ${part} is outside 1..${MAX_PART_NUMBER}`);
  return { pk: { S: PARTITION_PREFIX + id }, sk: { S: PART_SORT_PREFIX + String(part).padStart(PART_DIGITS, "0") } };
}
