import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import { VerigateError } from "../../shared/errors/index.ts";
import { chunkReader } from "../../shared/objects/chunk-reader.ts";
import { type IntegrityFields, verifiedChunks } from "../../shared/objects/chunk-verifier.ts";
import type { Manifest } from "../../shared/objects/manifest.ts";
import { nodeStreams } from "../../shared/streams/node.ts";

// Node's download hashes the S3 body's own pieces as they arrive and writes them on uncopied
// (`StreamRuntime.chunkHasher`); S3 hands over 64 KiB pieces that rarely line up with the chunks.
const CHUNK = 1000;

function bytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** A JS stream handing `data` over in pieces of the given sizes in turn, as a storage body does. */
function storageBody(data: Uint8Array<ArrayBuffer>, sizes: number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let turn = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.length) return controller.close();
      const size = sizes[turn++ % sizes.length]!;
      controller.enqueue(data.slice(at, at + size));
      at += size;
    },
  });
}

async function manifestOf(data: Uint8Array<ArrayBuffer>): Promise<Manifest> {
  const chunks: string[] = [];
  for (let at = 0; at < data.length; at += CHUNK) chunks.push(toHex(await sha256(data.slice(at, at + CHUNK))));
  return {
    key: "k",
    version: "v",
    size: data.length,
    sha256: toHex(await sha256(data)),
    chunk_size: CHUNK,
    chunks,
    content_type: "application/octet-stream",
    created_at: "2026-12-01T00:00:00Z",
    keyid: "test",
    blob: "b",
  };
}

function verifier(body: ReadableStream<Uint8Array>, manifest: Manifest, span = { offset: 0, length: manifest.size }) {
  const failures: IntegrityFields[] = [];
  const digests = { digest: async (index: number) => manifest.chunks![index]! };
  const integrityFailure = (fields: IntegrityFields) => (failures.push(fields), new VerigateError("integrity_failure", fields.reason));
  return { chunks: verifiedChunks(chunkReader(body), nodeStreams, manifest, digests, span, integrityFailure), failures };
}

function joined(pieces: Uint8Array[]): Uint8Array {
  return Uint8Array.from(pieces.flatMap((piece) => [...piece]));
}

describe("Node's verified chunks from the storage body's own pieces", () => {
  it("verifies a chunk arriving in many small pieces, and pieces straddling two chunks, byte for byte", async () => {
    const data = bytes(3 * CHUNK + 250, 1);
    const manifest = await manifestOf(data);
    // 7- and 333-byte pieces: a chunk comes in dozens of pieces, and pieces straddle every chunk boundary.
    const { chunks } = verifier(storageBody(data, [7, 333]), manifest);
    for (let index = 0; index < 4; index++) {
      const pieces = await chunks.read(index);
      expect(pieces.length).toBeGreaterThan(1);
      expect(joined(pieces)).toEqual(data.slice(index * CHUNK, (index + 1) * CHUNK));
    }
  });

  it("cuts a span out of the pieces exactly, starting and ending inside pieces", async () => {
    const data = bytes(3 * CHUNK, 2);
    const manifest = await manifestOf(data);
    const span = { offset: CHUNK + 10, length: CHUNK + 5 };
    const body = storageBody(data.slice(CHUNK), [6, 400]);
    const { chunks } = verifier(body, manifest, span);
    const got = joined([...(await chunks.read(1)), ...(await chunks.read(2))]);
    expect(got).toEqual(data.slice(span.offset, span.offset + span.length));
  });

  it("lets no piece of a chunk through when one byte of one piece of it was changed", async () => {
    const data = bytes(2 * CHUNK, 3);
    const manifest = await manifestOf(data);
    const stored = data.slice();
    stored[CHUNK + 500]! ^= 1;
    const { chunks, failures } = verifier(storageBody(stored, [7, 333]), manifest);
    expect(joined(await chunks.read(0))).toEqual(data.slice(0, CHUNK));
    await expect(chunks.read(1)).rejects.toMatchObject({ code: "integrity_failure" });
    expect(failures).toEqual([expect.objectContaining({ chunk: 1, reason: "digest_mismatch" })]);
  });

  it("refuses a chunk the blob ends short of, however its pieces were cut", async () => {
    const data = bytes(2 * CHUNK, 4);
    const manifest = await manifestOf(data);
    const { chunks, failures } = verifier(storageBody(data.slice(0, 2 * CHUNK - 1), [7, 333]), manifest);
    await chunks.read(0);
    await expect(chunks.read(1)).rejects.toMatchObject({ code: "integrity_failure" });
    expect(failures).toEqual([expect.objectContaining({ chunk: 1, reason: "short_chunk" })]);
  });
});
