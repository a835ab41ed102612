import { SHARE, VerigateError } from "../errors/index.ts";
import type { UploadSession } from "./store.ts";

/** The most parts R2 and S3 assemble into one object. */
export const MAX_UPLOAD_PARTS = 10_000;

/**
 * The part size of a session of `size` bytes: the configured part size, or the smallest whole number of chunks that
 * keeps the object within `MAX_UPLOAD_PARTS` parts. Whole chunks, so every part boundary is a chunk boundary.
 */
export function partSizeFor(size: number, chunkSize: number, uploadPartBytes: number): number {
  const fewestBytes = Math.ceil(size / MAX_UPLOAD_PARTS);
  return Math.max(uploadPartBytes, Math.ceil(fewestBytes / chunkSize) * chunkSize);
}

/** The size of part `part` (1-based): `part_size`, but the last holds what is left. */
export function partLength(session: Pick<UploadSession, "size" | "part_size">, part: number): number {
  return Math.min(part * session.part_size, session.size) - (part - 1) * session.part_size;
}

/** A part number from a request path: 1..`part_count`, plain decimal; `bad_request` otherwise. */
export function parsePartNumber(text: string, session: Pick<UploadSession, "part_count">): number {
  const part = /^[1-9]\d{0,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(part <= session.part_count)) throw new VerigateError("bad_request", `a part number is 1 to ${session.part_count} in this session`, SHARE);
  return part;
}
