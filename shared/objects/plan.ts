import type { MetadataStore } from "../metadata/index.ts";
import { chunkDigests } from "./chunk-digests.ts";
import { expectedDigest, integrityLogger } from "./chunk-verifier.ts";
import type { ObjectDeps } from "./deps.ts";
import { type Manifest, type ManifestReader, putResponseBody, type PutResponseBody, readCurrent } from "./manifest.ts";
import { readPinnedVersion } from "./tombstone.ts";

/**
 * At most this many chunk digests in one plan: TREE_FANOUT, so a window of a tree (manifest v2) spans at most two
 * level-0 pages, and the answer stays about 70 KiB of JSON; at the default 1 MiB chunks one window covers 1 GiB.
 */
export const MAX_PLAN_CHUNKS = 1024;

/** The chunks one plan covers: `[firstChunk, endChunk)`. */
export interface PlanWindow {
  firstChunk: number;
  endChunk: number;
  /** Where the asked range goes on past a cut window (the first byte of chunk `endChunk`), or null when the window covers it to its end. */
  nextOffset: number | null;
}

/**
 * The manifest a plan describes: the key's current version, or the pinned `version` exactly as a gateway link
 * serves it (gone once swept or once the key was deleted after it was committed); null when there is none.
 */
export function planManifest(deps: ManifestReader, key: string, version: string | undefined): Promise<Manifest | null> {
  return version === undefined ? readCurrent(deps, key) : readPinnedVersion(deps, key, version);
}

/**
 * The whole chunks covering `[offset, offset + length)` of the object (to its end when `length` is undefined), cut
 * after `MAX_PLAN_CHUNKS`. Null when `offset` is at or past the end, as a Range there is (416); an empty object
 * has the one empty window at offset 0.
 */
export function planWindow(manifest: Pick<Manifest, "size" | "chunk_size">, offset: number, length: number | undefined): PlanWindow | null {
  const { size, chunk_size: chunkSize } = manifest;
  if (offset > size || (offset === size && size > 0)) return null;
  const end = length === undefined ? size : Math.min(size, offset + length);
  const firstChunk = Math.floor(offset / chunkSize);
  const askedEndChunk = Math.ceil(end / chunkSize);
  const endChunk = Math.min(askedEndChunk, firstChunk + MAX_PLAN_CHUNKS);
  return { firstChunk, endChunk, nextOffset: endChunk < askedEndChunk ? endChunk * chunkSize : null };
}

/**
 * The SHA-256 of every chunk of `window`, in order, read by the gateway: the manifest's list, or its tree's pages,
 * each checked against the root before an entry of it is used. A page that fails is logged as an
 * `integrity_failure` and thrown as one (502): a client must never be handed a digest storage could have chosen.
 */
export async function windowDigests(deps: Pick<ObjectDeps, "storage" | "log">, manifest: Manifest, window: PlanWindow, requestId: string): Promise<string[]> {
  const digests = chunkDigests(deps, manifest);
  const integrityFailure = integrityLogger(deps, manifest, requestId);
  const hex: string[] = [];
  // In order: the tree reader keeps the current path's pages, so each page is fetched once.
  for (let index = window.firstChunk; index < window.endChunk; index++) hex.push(await expectedDigest(digests, index, integrityFailure));
  return hex;
}

/** The 200 body of `POST /v1/plans` (PROTOCOL section 4, "Direct download plans"): the version's facts as a PUT answers them, and the window. */
export interface PlanBody extends PutResponseBody {
  first_chunk: number;
  chunks: string[];
  next_offset: number | null;
  url: string;
  /** RFC 3339. */
  expires_at: string;
}

export function planBody(manifest: Manifest, window: PlanWindow, chunks: string[], url: string, expiresAt: string): PlanBody {
  return { ...putResponseBody(manifest), first_chunk: window.firstChunk, chunks, next_offset: window.nextOffset, url, expires_at: expiresAt };
}
