import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { toHex } from "../../shared/crypto/encoding.ts";
import { transferProgress } from "./progress.ts";

/**
 * SHA-256 (hex) and size of a file, read once as a stream: the signature must cover the digest before the upload
 * starts. `expectedSize` sizes the progress bar (stderr, on a terminal, for large files), as hashing a large file
 * takes a while before the first byte leaves.
 */
export async function digestFile(path: string, expectedSize: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  const size = await hashFileInto(hash, path, { progressSize: expectedSize });
  return { sha256: toHex(hash.digest()), size };
}

/** Feeds a file into `hash`, its first `length` bytes when given, with a progress bar; returns the bytes read. */
export async function hashFileInto(hash: Hash, path: string, options: { length?: number; progressSize: number }): Promise<number> {
  const { length, progressSize } = options;
  if (length === 0) return 0;
  const progress = transferProgress("hash", progressSize);
  let size = 0;
  try {
    for await (const chunk of createReadStream(path, length === undefined ? {} : { end: length - 1 }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      progress.advance(chunk.length);
    }
  } finally {
    progress.stop();
  }
  return size;
}
