import { fromBase64, toBase64, toHex } from "../crypto/encoding.ts";
import type { ObjectStorage } from "../storage/index.ts";

/**
 * The digest tree of manifest v2 (docs/STORAGE.md "Digest trees"): an object's chunk digests live in storage pages
 * instead of its manifest once there are more than `TREE_FANOUT` of them, so the manifest stays small at any size
 * (DynamoDB's 400 KB item held about 6,000 inline digests) and a Range read fetches only the pages on its path.
 *
 * Level 0 is the chunk digests in order, cut into pages of `fanout` 32-byte digests; level k+1 is the SHA-256 of each
 * level-k page, cut the same way; the top level has one page, and `root` is the SHA-256 of that page. The shape
 * follows from the chunk count alone (the manifest's size and chunk size), so a reader knows every page's level,
 * index and length before fetching it and checks it against its parent's entry: storage is untrusted.
 */

/**
 * Digests per page and the inline limit: a manifest holds its digests inline up to this many chunks (v1 form) and a
 * tree above it. 1024 digests make a 32 KiB page, one storage read per GiB of 1 MiB chunks, and three levels cover
 * 5 TiB even at the smallest chunk size (64 KiB: 5 x 2^24 chunks).
 */
export const TREE_FANOUT = 1024;

/** SHA-256 output size: one tree entry. */
export const TREE_DIGEST_BYTES = 32;

/** A manifest's reference to its tree (stored JSON, in the manifest's `tree` field). */
export interface DigestTree {
  /** SHA-256 of the top page, lowercase hex: what binds every page to the manifest. */
  root: string;
  fanout: number;
  /** Key prefix of the pages in object storage: `trees/<version>`; page k/j is `<pages>/<k>/<j>`. */
  pages: string;
}

/**
 * A builder's progress, JSON-safe, to carry a tree across invocations (upload-session complete). Per level, the
 * digests of the page being filled (base64, at most `fanout` x 32 bytes); pages already written are in storage, and
 * how many there are follows from `count`. Three levels cover 5 TiB, so this is at most three pages in base64 (131 KB;
 * about 91 KB at 5 TiB of 64 KiB chunks, where the top level holds 80 digests).
 */
export interface TreeBuilderState {
  fanout: number;
  /** Chunk digests added so far. */
  count: number;
  levels: string[];
}

/** The page prefix of `version`'s tree: every page of a version's tree sits under it, beside `blobs/<version>`. */
export function treePagesPrefix(version: string): string {
  return `trees/${version}`;
}

export function treePageKey(pages: string, level: number, page: number): string {
  return `${pages}/${level}/${page}`;
}

/**
 * Entries per level of a tree over `chunkCount` digests, level 0 first and the top (one page) last. At most
 * `fanout` chunks have a single level: those stay inline and no page is written.
 */
export function treeLevelSizes(fanout: number, chunkCount: number): number[] {
  const sizes = [chunkCount];
  for (let entries = chunkCount; entries > fanout;) {
    entries = Math.ceil(entries / fanout);
    sizes.push(entries);
  }
  return sizes;
}

/** Every page key of the tree over `chunkCount` chunks, for the sweep; none when the digests stay inline. */
export function treePageKeys(tree: Pick<DigestTree, "pages" | "fanout">, chunkCount: number): string[] {
  const sizes = treeLevelSizes(tree.fanout, chunkCount);
  if (sizes.length === 1) return [];
  return sizes.flatMap((entries, level) => Array.from({ length: Math.ceil(entries / tree.fanout) }, (_, page) => treePageKey(tree.pages, level, page)));
}

interface Level {
  /** The page being filled: room for `fanout` digests. */
  page: Uint8Array<ArrayBuffer>;
  entries: number;
  /** Pages of this level already in storage: the next one written gets this index. */
  written: number;
}

/**
 * Builds a digest tree from chunk digests added in order, writing each page to storage once it is full and
 * another digest arrives, so that exactly `fanout` digests write nothing and stay inline. Its memory is one page per
 * level. Every call must be awaited before the next; a failed `add` leaves the builder as it was (a page it wrote is
 * written again, identically, by the retry), and a builder restored from `exportState` continues exactly there.
 */
export class DigestTreeBuilder {
  readonly #storage: ObjectStorage;
  readonly #pages: string;
  readonly #fanout: number;
  readonly #levels: Level[] = [];
  #count = 0;
  #finished = false;

  constructor(storage: ObjectStorage, pagesPrefix: string, fanout: number = TREE_FANOUT, state?: TreeBuilderState) {
    if (!Number.isSafeInteger(fanout) || fanout < 2) throw new RangeError(`tree fanout ${fanout}: at least 2`);
    this.#storage = storage;
    this.#pages = pagesPrefix;
    this.#fanout = fanout;
    if (state) this.#restore(state);
  }

  async add(chunkDigest: Uint8Array): Promise<void> {
    if (this.#finished) throw new TypeError("DigestTreeBuilder: add after finish");
    if (chunkDigest.length !== TREE_DIGEST_BYTES) throw new TypeError(`a chunk digest is ${TREE_DIGEST_BYTES} bytes, not ${chunkDigest.length}`);
    await this.#push(0, chunkDigest);
    this.#count++;
  }

  exportState(): TreeBuilderState {
    if (this.#finished) throw new TypeError("DigestTreeBuilder: exportState after finish");
    return {
      fanout: this.#fanout,
      count: this.#count,
      levels: this.#levels.map((level) => toBase64(level.page.subarray(0, level.entries * TREE_DIGEST_BYTES))),
    };
  }

  /**
   * The manifest's digests: inline hex when at most `fanout` were added (no page was written), otherwise the tree,
   * once every partial page up to the top one is written. The builder is then finished.
   */
  async finish(): Promise<{ chunks: string[] } | { tree: DigestTree }> {
    if (this.#finished) throw new TypeError("DigestTreeBuilder: finish called twice");
    this.#finished = true;
    const bottom = this.#levels[0] ?? this.#newLevel();
    if (this.#levels.length <= 1 && bottom.written === 0) {
      return { chunks: Array.from({ length: bottom.entries }, (_, entry) => toHex(entryOf(bottom.page, entry))) };
    }
    for (let index = 0; ; index++) {
      const level = this.#levels[index]!;
      const hash = await this.#writePage(index, level);
      if (index === this.#levels.length - 1 && level.written === 0) {
        return { tree: { root: toHex(hash), fanout: this.#fanout, pages: this.#pages } };
      }
      await this.#push(index + 1, hash);
      level.entries = 0;
      level.written++;
    }
  }

  /**
   * Appends `digest` to level `index`, first writing that level's page when it is full and passing the page's hash up.
   * All storage work comes before any change to the levels, so a failure part way changes nothing.
   */
  async #push(index: number, digest: Uint8Array): Promise<void> {
    const level = this.#levels[index] ?? this.#newLevel();
    if (level.entries === this.#fanout) {
      const hash = await this.#writePage(index, level);
      await this.#push(index + 1, hash);
      level.entries = 0;
      level.written++;
    }
    if (this.#levels[index] === undefined) this.#levels.push(level);
    level.page.set(digest, level.entries * TREE_DIGEST_BYTES);
    level.entries++;
  }

  /** Writes the level's page (its filled part) and returns its SHA-256, which storage also checks. */
  async #writePage(index: number, level: Level): Promise<Uint8Array<ArrayBuffer>> {
    const bytes = level.page.slice(0, level.entries * TREE_DIGEST_BYTES);
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    await this.#storage.put(treePageKey(this.#pages, index, level.written), new Blob([bytes]).stream(), { length: bytes.length, sha256: hash });
    return hash;
  }

  #newLevel(): Level {
    return { page: new Uint8Array(this.#fanout * TREE_DIGEST_BYTES), entries: 0, written: 0 };
  }

  /** Takes `state` back after checking it is one this builder's fanout could have exported. */
  #restore(state: TreeBuilderState): void {
    if (state.fanout !== this.#fanout) throw new TypeError(`tree state has fanout ${state.fanout}, the builder ${this.#fanout}`);
    if (!Number.isSafeInteger(state.count) || state.count < 0) throw new TypeError("tree state: bad count");
    // Entries that reached each level: the chunk digests at level 0, then one per page written below.
    let reached = state.count;
    for (const text of state.levels) {
      const bytes = fromBase64(text);
      const entries = bytes.length / TREE_DIGEST_BYTES;
      const written = (reached - entries) / this.#fanout;
      if (!Number.isInteger(entries) || entries < 1 || entries > this.#fanout || !Number.isInteger(written) || written < 0) {
        throw new TypeError("tree state: a level does not match the count");
      }
      const level = this.#newLevel();
      level.page.set(bytes);
      level.entries = entries;
      level.written = written;
      this.#levels.push(level);
      reached = written;
    }
    if (reached !== 0) throw new TypeError("tree state: pages written at the top level");
    this.#count = state.count;
  }
}

/** Entry `entry` of a page: a view, not a copy. */
export function entryOf(page: Uint8Array, entry: number): Uint8Array {
  return page.subarray(entry * TREE_DIGEST_BYTES, (entry + 1) * TREE_DIGEST_BYTES);
}
