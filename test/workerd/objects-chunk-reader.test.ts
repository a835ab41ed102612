import { describe, expect, it } from "vitest";
import { chunkReader } from "../../shared/objects/chunk-reader.ts";
import { bytes, piecewise, requestBody } from "./support/objects-fixtures.ts";

const sources = [
  { name: "a request body (BYOB readAtLeast)", open: (data: Uint8Array<ArrayBuffer>) => requestBody(data) },
  { name: "a JS stream of 7-byte pieces (copying reader)", open: (data: Uint8Array<ArrayBuffer>) => piecewise(data, 7) },
  { name: "a JS stream of one big piece (copying reader)", open: (data: Uint8Array<ArrayBuffer>) => piecewise(data, 1 << 20) },
];

describe.each(sources)("chunkReader over $name", ({ open }) => {
  it("returns exactly the requested sizes, in order, across piece boundaries", async () => {
    const data = bytes(1000, 3);
    const reader = chunkReader(open(data));
    const sizes = [1, 9, 100, 256, 300, 334];
    let at = 0;
    for (const size of sizes) {
      const chunk = await reader.read(size);
      expect(chunk).toEqual(data.slice(at, at + size));
      at += size;
    }
    expect(await reader.read(10)).toHaveLength(0);
  });

  it("returns fewer bytes only at the end, then nothing", async () => {
    const data = bytes(25, 4);
    const reader = chunkReader(open(data));
    expect(await reader.read(20)).toEqual(data.slice(0, 20));
    expect(await reader.read(20)).toEqual(data.slice(20));
    expect(await reader.read(20)).toHaveLength(0);
  });

  it("hands out buffers the caller may keep: a later read does not overwrite an earlier chunk", async () => {
    const data = bytes(64, 5);
    const reader = chunkReader(open(data));
    const first = await reader.read(32);
    const second = await reader.read(32);
    expect(first).toEqual(data.slice(0, 32));
    expect(second).toEqual(data.slice(32));
  });

  it("reads into a buffer handed back for reuse, and into fresh memory when that buffer is too small", async () => {
    const data = bytes(96, 6);
    const reader = chunkReader(open(data));
    const first = await reader.read(32);
    expect(first).toEqual(data.slice(0, 32));
    const second = await reader.read(32, first.buffer);
    expect(second).toEqual(data.slice(32, 64));
    // The BYOB reader transfers the buffer it reads into; the copying reader fills it in place. Either way, the memory is the same.
    expect(first.length === 0 || second.buffer === first.buffer).toBe(true);
    const third = await reader.read(32, new ArrayBuffer(8));
    expect(third).toEqual(data.slice(64));
    expect(third.buffer.byteLength).toBe(32);
  });

  it("hands out exactly the requested sizes as the stream's own pieces, each to onPiece as it arrives", async () => {
    const data = bytes(1000, 7);
    const reader = chunkReader(open(data));
    let at = 0;
    for (const size of [1, 9, 100, 256, 300, 334]) {
      const seen: Uint8Array[] = [];
      const pieces = await reader.pieces(size, (piece) => seen.push(piece));
      expect(seen).toEqual(pieces);
      expect(Uint8Array.from(pieces.flatMap((piece) => [...piece]))).toEqual(data.slice(at, at + size));
      at += size;
    }
    const rest = await reader.pieces(10, () => {});
    expect(rest.reduce((length, piece) => length + piece.length, 0)).toBe(0);
  });

  it("reads an empty stream as ended", async () => {
    expect(await chunkReader(open(new Uint8Array(0))).read(8)).toHaveLength(0);
  });
});

it("propagates a source error to the read that meets it", async () => {
  const failing = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new Error("source failed"));
    },
  });
  await expect(chunkReader(failing).read(4)).rejects.toThrow("source failed");
});
