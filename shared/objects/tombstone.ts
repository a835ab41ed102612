import type { MetadataStore } from "../metadata/index.ts";
import { type ManifestReader, readCurrent, readVersion } from "./manifest.ts";
import type { StoredManifest } from "./manifest-signature.ts";

/**
 * What a DELETE leaves so that every link to the key's versions stops at once: `del:<key>` holding the
 * moment of the delete. A version committed at or before it is refused to links (404, as a swept version is),
 * even while its blob and `ver:` record wait out their grace period; a version committed later (a new upload
 * of the key) is not, so an upload after a delete never revives old links. Overwrites leave no tombstone:
 * links stay pinned to their version. Swapped, never put, so the Workers commit authority sees every change.
 */
export interface Tombstone {
  key: string;
  /** ISO 8601, the deleting request's clock; also the record's swap tag. */
  deleted_at: string;
}

const TOMBSTONE_TAG_FIELD = "deleted_at" satisfies keyof Tombstone;

export function tombstoneKey(key: string): string {
  return `del:${key}`;
}

export async function writeTombstone(metadata: MetadataStore, tombstone: Tombstone): Promise<void> {
  await metadata.swap(tombstoneKey(tombstone.key), tombstone, { kind: "any" }, TOMBSTONE_TAG_FIELD);
}

/** Removes the tombstone of `key` only if it is still the one of the delete at `deletedAt`: a later delete keeps its own. */
export async function dropTombstone(metadata: MetadataStore, key: string, deletedAt: string): Promise<void> {
  await metadata.swap(tombstoneKey(key), null, { kind: "tag", tag: deletedAt }, TOMBSTONE_TAG_FIELD);
}

/**
 * The manifest a link pinned to `version` of `key` may serve, or null: none when the version is gone or was
 * committed no later than the key's last delete. The current version is served whatever its timestamp: an
 * upload stamped a few milliseconds before a delete but committed after it is the live object.
 */
export async function readPinnedVersion(deps: ManifestReader, key: string, version: string): Promise<StoredManifest | null> {
  const [manifest, tombstone] = await Promise.all([readVersion(deps, key, version), deps.metadata.get<Tombstone>(tombstoneKey(key))]);
  if (!manifest) return null;
  if (!tombstone || Date.parse(manifest.created_at) > Date.parse(tombstone.deleted_at)) return manifest;
  return (await readCurrent(deps, key))?.version === version ? manifest : null;
}
