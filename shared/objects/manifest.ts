import { EncryptionFailure } from "../crypto/failures.ts";
import type { MetadataStore } from "../metadata/index.ts";
import { encryptionFailureError } from "./chunk-verifier.ts";
import type { ObjectDeps } from "./deps.ts";
import type { DigestTree } from "./digest-tree.ts";
import { type StoredManifest, signManifest, verifyManifest } from "./manifest-signature.ts";

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

/** What reading a manifest needs: the store, the deployment's keys and legacy flag, and where to log refusals. */
export type ManifestReader = Pick<ObjectDeps, "metadata" | "log" | "config"> & { requestId?: string | undefined };

/**
 * The current manifest of `key`, verified (docs/ENCRYPTION.md "Signed manifests") before anything uses it: one that
 * fails (altered, moved from another key, unsigned without the legacy flag) is logged and refused as 502
 * `integrity_failure`, one naming a deployment key the ring lacks as 503 `misconfigured`.
 */
export async function readCurrent(deps: ManifestReader, key: string): Promise<StoredManifest | null> {
  return verified(deps, await deps.metadata.get<StoredManifest>(currentKey(key)), { key });
}

/**
 * The manifest of `version` of `key`, verified as pinned to that version; null when there is none or the record is
 * another key's (a client may name any version: that is a 404, as before; a record claiming the key but not the
 * version fails verification).
 */
export async function readVersion(deps: ManifestReader, key: string, version: string): Promise<StoredManifest | null> {
  const stored = await deps.metadata.get<StoredManifest>(versionKey(version));
  if (!stored || stored.key !== key) return null;
  return verified(deps, stored, { key, version });
}

/**
 * The raw current record of `key`, for the one reader that must not refuse: the garbage sweep only keeps a blob the
 * record names. A tampered record can then only keep garbage longer; refusing it would stall the sweep, and trusting
 * it less (deleting) would turn a tamper into data loss.
 */
export function readCurrentUnverified(metadata: MetadataStore, key: string): Promise<StoredManifest | null> {
  return metadata.get<StoredManifest>(currentKey(key));
}

async function verified(deps: ManifestReader, stored: StoredManifest | null, expected: { key: string; version?: string }): Promise<StoredManifest | null> {
  if (stored === null) return null;
  const { ring, readUnsignedLegacy } = deps.config.encryption;
  const log = deps.requestId === undefined ? deps.log : withRequestId(deps, deps.requestId);
  try {
    return await verifyManifest(stored, expected, { ring, readUnsignedLegacy, log });
  } catch (error) {
    if (error instanceof EncryptionFailure) throw encryptionFailureError(deps, stored, deps.requestId ?? "-", error);
    throw error;
  }
}

function withRequestId(deps: Pick<ObjectDeps, "log">, requestId: string): ObjectDeps["log"] {
  return { log: (level, event, fields) => deps.log.log(level, event, { ...fields, request_id: requestId }) };
}

/**
 * `manifest` as it is stored: signed under the current deployment key when ENCRYPTION_KEYS is set, as it is when
 * not. Every write of a manifest (PUT, upload-session and LFS commits, rewrap) goes through here.
 */
export function sealManifest(deps: Pick<ObjectDeps, "config">, manifest: StoredManifest): Promise<StoredManifest> {
  const { ring } = deps.config.encryption;
  return ring === null ? Promise.resolve(manifest) : signManifest(ring, manifest);
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
