import { encryptedChunkCount } from "../crypto/chunk-layout.ts";
import { fromHex, timingSafeEqual, toHex } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import type { ObjectStorage } from "../storage/index.ts";
import { chunkReader } from "./chunk-reader.ts";
import { type DigestTree, entryOf, TREE_DIGEST_BYTES, treeLevelSizes, treePageKey } from "./digest-tree.ts";
import type { ObjectDeps } from "./deps.ts";
import type { StoredManifest } from "./manifest-signature.ts";

/** The chunk verifier's source of expected digests, for both manifest forms. */
export interface ChunkDigests {
  /** Chunk `index`'s SHA-256, lowercase hex; rejects with `TreePageFailure` when a tree page fails its check. */
  digest(index: number): Promise<string>;
}

/** A tree page that is missing or does not hash to its parent's entry (or the root): storage cannot be trusted. */
export class TreePageFailure extends Error {
  override readonly name = "TreePageFailure";
  readonly reason: "tree_page_missing" | "tree_page_mismatch";
  /** The page's storage key. */
  readonly page: string;
  readonly expected: string | undefined;
  readonly actual: string | undefined;
  readonly expectedSize: number | undefined;
  readonly actualSize: number | undefined;

  constructor(fields: Pick<TreePageFailure, "reason" | "page"> & Partial<Pick<TreePageFailure, "expected" | "actual" | "expectedSize" | "actualSize">>) {
    super(`${fields.reason}: ${fields.page}`);
    this.reason = fields.reason;
    this.page = fields.page;
    this.expected = fields.expected;
    this.actual = fields.actual;
    this.expectedSize = fields.expectedSize;
    this.actualSize = fields.actualSize;
  }
}

/**
 * The digests of `manifest`: its inline list (v1), or a reader of its tree in storage (v2). An encrypted object's
 * digests are its ciphertext chunks', and it has at least one chunk (an empty one is its bare tag): chunk-layout.ts.
 */
export function chunkDigests(
  deps: Pick<ObjectDeps, "storage">,
  manifest: Pick<StoredManifest, "chunks" | "tree" | "size" | "chunk_size" | "encryption">,
): ChunkDigests {
  if (!manifest.tree) {
    const chunks = manifest.chunks ?? [];
    // A list shorter than the object is a manifest the verifier must refuse: an empty digest matches no chunk.
    return { digest: (index) => Promise.resolve(chunks[index] ?? "") };
  }
  const chunkCount = manifest.encryption ? encryptedChunkCount(manifest.size, manifest.chunk_size) : Math.ceil(manifest.size / manifest.chunk_size);
  return new TreeReader(deps.storage, manifest.tree, chunkCount);
}

/** A page of the current path: its fetch is shared, so callers asking at once (a prefetch and the read) fetch it once. */
interface CachedPage {
  index: number;
  bytes: Promise<Uint8Array<ArrayBuffer>>;
}

/**
 * Reads chunk digests from a digest tree, fetching for chunk i the level-0 page holding it and that page's ancestors,
 * each checked against the entry of its already-checked parent and the top page against `root`, before any entry
 * of it is used. It keeps one page per level (the current path), so reading in order fetches each page once and
 * memory is depth x `fanout` x 32 bytes (three pages of 32 KiB at 5 TiB) whatever the object's size.
 */
class TreeReader implements ChunkDigests {
  readonly #storage: ObjectStorage;
  readonly #tree: DigestTree;
  /** Entries per level, level 0 first: the expected length of every page follows from it. */
  readonly #levelSizes: number[];
  readonly #path: (CachedPage | undefined)[];

  constructor(storage: ObjectStorage, tree: DigestTree, chunkCount: number) {
    this.#storage = storage;
    this.#tree = tree;
    this.#levelSizes = treeLevelSizes(tree.fanout, chunkCount);
    this.#path = this.#levelSizes.map(() => undefined);
  }

  async digest(index: number): Promise<string> {
    const fanout = this.#tree.fanout;
    // The page holding the entry at each level, bottom up: chunk i is in level-0 page i/fanout, and so on.
    const pageIndexes: number[] = [];
    for (let entry = index, level = 0; level < this.#levelSizes.length; level++, entry = Math.floor(entry / fanout)) {
      pageIndexes.push(Math.floor(entry / fanout));
    }
    let expected: Uint8Array | undefined;
    for (let level = this.#levelSizes.length - 1; level >= 0; level--) {
      const pageIndex = pageIndexes[level]!;
      let page = this.#path[level];
      if (page?.index !== pageIndex) {
        page = { index: pageIndex, bytes: this.#fetchPage(level, pageIndex, expected) };
        // Awaited just below; a page that failed stays failed for this reader, whoever asks next.
        page.bytes.catch(() => {});
        this.#path[level] = page;
      }
      expected = entryOf(await page.bytes, level === 0 ? index % fanout : pageIndexes[level - 1]! % fanout);
    }
    return toHex(expected!);
  }

  /**
   * Page `pageIndex` of `level`, once it has exactly the length the tree's shape gives it and hashes to `expected`
   * (its parent's entry) or, for the top page, to the root. At most one byte past that length is read.
   */
  async #fetchPage(level: number, pageIndex: number, expected: Uint8Array | undefined): Promise<Uint8Array<ArrayBuffer>> {
    const key = treePageKey(this.#tree.pages, level, pageIndex);
    const entries = Math.min(this.#tree.fanout, this.#levelSizes[level]! - pageIndex * this.#tree.fanout);
    const expectedSize = entries * TREE_DIGEST_BYTES;
    const bytes = await this.#read(key, expectedSize + 1);
    if (bytes.length !== expectedSize) {
      throw new TreePageFailure({ reason: "tree_page_mismatch", page: key, expectedSize, actualSize: bytes.length });
    }
    const actual = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const wanted = expected ?? fromHex(this.#tree.root);
    if (!timingSafeEqual(actual, wanted)) {
      throw new TreePageFailure({ reason: "tree_page_mismatch", page: key, expected: toHex(wanted), actual: toHex(actual) });
    }
    return bytes;
  }

  /** Up to `limit` bytes of the page at `key`, so a page grown huge in storage costs no more memory than a good one. */
  async #read(key: string, limit: number): Promise<Uint8Array<ArrayBuffer>> {
    let stored;
    try {
      stored = await this.#storage.get(key);
    } catch (error) {
      throw new VerigateError("internal", `storage read of tree page ${key} failed`, { cause: error });
    }
    if (!stored) throw new TreePageFailure({ reason: "tree_page_missing", page: key });
    const reader = chunkReader(stored.body);
    try {
      return await reader.read(limit);
    } catch (error) {
      throw new VerigateError("internal", `storage read of tree page ${key} failed`, { cause: error });
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}
