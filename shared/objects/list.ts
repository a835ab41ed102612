import { isVerigateError, SHARE, VerigateError } from "../errors/index.ts";
import type { ListPage, MetadataStore } from "../metadata/index.ts";
import { MAX_OBJECT_KEY_BYTES } from "./key.ts";
import { decodeListCursor, encodeListCursor } from "./list-cursor.ts";
import { CURRENT_PREFIX, currentKey, type ManifestReader, readCurrent } from "./manifest.ts";

export const DEFAULT_LIST_LIMIT = 100;
/** The metadata store's own page cap (KV's list limit). */
export const MAX_LIST_LIMIT = 1000;
/** Bounds the metadata calls of one request when the caller's scopes hide most keys under the prefix. */
const MAX_LIST_PAGES = 10;

export interface ListObjectsInput {
  prefix?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
  /** Whether the caller may list this key; keys it may not are skipped unread. */
  allowed: (key: string) => boolean;
}

export interface ListedObject {
  key: string;
  size: number;
  sha256: string;
  version: string;
  uploaded_at: string;
}

/** The 200 body of `GET /v1/objects`. A page may hold fewer than `limit` objects while `cursor` is not null. */
export interface ObjectList {
  objects: ListedObject[];
  cursor: string | null;
}

/**
 * Current objects under `prefix` in key order, only those `allowed`. Throws `bad_request` for a limit outside
 * 1..MAX_LIST_LIMIT and for a cursor that does not continue this listing (list-cursor.ts).
 */
export async function listObjects(deps: ManifestReader, input: ListObjectsInput): Promise<ObjectList> {
  const { metadata } = deps;
  const limit = input.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw new VerigateError("bad_request", `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`, SHARE);
  const prefix = input.prefix ?? "";
  const given = input.cursor === undefined ? undefined : decodeListCursor(input.cursor, prefix);
  // No key can start with a prefix longer than a key: the listing is empty, whatever a store would make of it.
  if (new TextEncoder().encode(prefix).length > MAX_OBJECT_KEY_BYTES) return { objects: [], cursor: null };
  const objects: ListedObject[] = [];
  let cursor = given;
  for (let pages = 0; pages < MAX_LIST_PAGES && objects.length < limit; pages++) {
    // Asking only for what is missing ends every page at a key boundary the store's cursor can resume from.
    const page =
      pages === 0 && given !== undefined
        ? await listFromClientCursor(metadata, currentKey(prefix), limit, given)
        : await metadata.list(currentKey(prefix), { limit: limit - objects.length, ...(cursor ? { cursor } : {}) });
    const keys = page.keys.map((name) => name.slice(CURRENT_PREFIX.length)).filter(input.allowed);
    for (const manifest of await Promise.all(keys.map((key) => readCurrent(deps, key)))) {
      if (!manifest) continue;
      const { key, size, sha256, version, created_at } = manifest;
      objects.push({ key, size, sha256, version, uploaded_at: created_at });
    }
    cursor = page.cursor;
    if (!cursor) break;
  }
  return { objects, cursor: cursor ? encodeListCursor(prefix, cursor) : null };
}

/**
 * A store may fail on a cursor a client altered inside its wrapper. Whether the cursor or the store is at fault
 * is settled by asking once more without it: when that works, the cursor was the problem (`bad_request`);
 * otherwise the store's own error stands.
 */
async function listFromClientCursor(metadata: MetadataStore, prefix: string, limit: number, cursor: string): Promise<ListPage> {
  try {
    return await metadata.list(prefix, { limit, cursor });
  } catch (error) {
    if (isVerigateError(error)) throw error;
    const storeAnswers = await metadata.list(prefix, { limit: 1 }).then(
      () => true,
      () => false,
    );
    if (!storeAnswers) throw error;
    throw new VerigateError("bad_request", "the metadata store refused the list cursor", { cause: error });
  }
}
