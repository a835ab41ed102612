import type { ObjectStorage } from "../../shared/storage/index.ts";
import { piecewiseStream } from "../../shared/storage/piecewise.ts";

/** The pieces a body is written in: a network-sized read, not one buffer. */
export const PIECE_BYTES = 64 * 1024;

/** A fresh key per case, so cases never see each other's blobs even in shared storage. */
export function blobKey(name = "blob"): string {
  return `contract/${crypto.randomUUID()}/${name}`;
}

/** A 257-byte period, so bytes read from a wrong offset (even one 256 bytes off) differ from the expected ones. */
export function patternBytes(length: number, seed = 0): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = ((i + seed) % 257) & 0xff;
  return bytes;
}

export function streamOf(bytes: Uint8Array, pieceBytes = PIECE_BYTES): ReadableStream<Uint8Array> {
  return piecewiseStream(bytes, pieceBytes);
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The blob's bytes, or null when the store holds none under `key`. */
export async function readBlob(storage: ObjectStorage, key: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const blob = await storage.get(key);
  return blob && readAll(blob.body);
}
