import type { MetadataStore } from "../metadata/index.ts";
import type { DigestTree } from "./digest-tree.ts";

/**
 * The authority on an object version (PROTOCOL "Trust model"): bytes from storage are served only when
 * they hash to its chunk digests. Field names are snake_case because this is the stored JSON.
 *
 * Exactly one of `chunks` and `tree` is present: `chunks` (the v1 form, still read) when the object has at most
 * `TREE_FANOUT` chunks, `tree` (v2) above that, so the manifest stays the same small size whatever the object's.
 */
export interface Manifest {
  key: string;
  version: string;
  size: number;
  /** SHA-256 of the whole object, lowercase hex. */
  sha256: string;
  chunk_size: number;
  /** SHA-256 of each `chunk_size` slice in order (the last may be shorter), lowercase hex. */
  chunks?: string[];
  /** The digest tree holding those digests in storage, bound by its root (digest-tree.ts, docs/STORAGE.md). */
  tree?: DigestTree;
  content_type: string;
  /** ISO 8601. */
  created_at: string;
  keyid: string;
  /** The storage key of the bytes. */
  blob: string;
}

export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** Prefix of the current manifests; listing it lists the objects. */
export const CURRENT_PREFIX = "obj:";

/** Metadata key of the manifest a read of `key` serves. */
export function currentKey(key: string): string {
  return `${CURRENT_PREFIX}${key}`;
}

/** Metadata key of one version's manifest, kept until its blob is swept so a pinned version stays readable. */
export function versionKey(version: string): string {
  return `ver:${version}`;
}

export function readCurrent(metadata: MetadataStore, key: string): Promise<Manifest | null> {
  return metadata.get<Manifest>(currentKey(key));
}

export function readVersion(metadata: MetadataStore, version: string): Promise<Manifest | null> {
  return metadata.get<Manifest>(versionKey(version));
}

/** The manifest property conditional commits compare (metadata `swap` tags): its SHA-256, the value of its ETag. */
export const MANIFEST_TAG_FIELD = "sha256" satisfies keyof Manifest;

/** The strong entity tag of a version: its whole SHA-256, so equal bytes give equal tags across versions. */
export function etagOf(manifest: Pick<Manifest, "sha256">): string {
  return `"${manifest.sha256}"`;
}

/** The 201 body of a PUT (PROTOCOL section 3); `etag` is the ETag header value, quotes included, ready for If-Match. */
export interface PutResponseBody {
  key: string;
  version: string;
  size: number;
  sha256: string;
  chunk_size: number;
  etag: string;
}

export function putResponseBody(manifest: Manifest): PutResponseBody {
  const { key, version, size, sha256, chunk_size } = manifest;
  return { key, version, size, sha256, chunk_size, etag: etagOf(manifest) };
}
