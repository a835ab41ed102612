import { VerigateError } from "../errors/index.ts";
import type { MetadataStore } from "../metadata/index.ts";
import { MAX_OBJECT_KEY_BYTES } from "./key.ts";
import { CURRENT_PREFIX, currentKey, readCurrent } from "./manifest.ts";

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

/** Current objects under `prefix` in key order, only those `allowed`; throws `bad_request` for a limit outside 1..MAX_LIST_LIMIT. */
export async function listObjects(metadata: MetadataStore, input: ListObjectsInput): Promise<ObjectList> {
  const limit = input.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new VerigateError("bad_request", `limit ${limit}`);
  // No key can start with a prefix longer than a key: the listing is empty, whatever a store would make of it.
  if (new TextEncoder().encode(input.prefix ?? "").length > MAX_OBJECT_KEY_BYTES) return { objects: [], cursor: null };
  const objects: ListedObject[] = [];
  let cursor = input.cursor;
  for (let pages = 0; pages < MAX_LIST_PAGES && objects.length < limit; pages++) {
    // Asking only for what is missing ends every page at a key boundary the store's cursor can resume from.
    const page = await metadata.list(currentKey(input.prefix ?? ""), {
      limit: limit - objects.length,
      ...(cursor ? { cursor } : {}),
    });
    const keys = page.keys.map((name) => name.slice(CURRENT_PREFIX.length)).filter(input.allowed);
    for (const manifest of await Promise.all(keys.map((key) => readCurrent(metadata, key)))) {
      if (!manifest) continue;
      const { key, size, sha256, version, created_at } = manifest;
      objects.push({ key, size, sha256, version, uploaded_at: created_at });
    }
    cursor = page.cursor;
    if (!cursor) break;
  }
  return { objects, cursor: cursor ?? null };
}
