import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import type { StreamRuntime } from "../../shared/streams/index.ts";
import { concatBytes } from "../support/bytes.ts";

/** What a runtime's pipe errors its readable with when fewer or more than `length` bytes went in. */
export interface StreamRuntimeCapabilities {
  lengthError: { code: string } | { message: RegExp };
}

/** SHA-256 of no bytes (FIPS 180-4 test vector). */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** The upload's smallest chunk size: hashers are fed chunks of about this size. */
const CHUNK = 64 * 1024;

/** `crypto.getRandomValues` fills at most 64 KiB per call. */
function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += CHUNK) crypto.getRandomValues(bytes.subarray(at, at + CHUNK));
  return bytes;
}

/** `bytes` cut into pieces of the given sizes in turn, the last piece taking what is left. */
function cut(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? bytes.length;
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

interface PipeOutcome {
  received: Uint8Array<ArrayBuffer>;
  /** What the readable errored with; undefined when it ended cleanly. */
  error: unknown;
}

/** Writes `parts` into a pipe of `length` bytes, closes or aborts it, and reads what comes out. */
async function throughPipe(runtime: StreamRuntime, length: number, parts: Uint8Array[], end: "close" | "abort"): Promise<PipeOutcome> {
  const pipe = runtime.exactLengthPipe(length);
  const writer = pipe.writable.getWriter();
  const writing = (async () => {
    for (const part of parts) await writer.write(part);
    if (end === "close") await writer.close();
    else await writer.abort(new Error("verification failed"));
  })().catch(() => {});
  const reader = pipe.readable.getReader();
  const pieces: Uint8Array[] = [];
  let error: unknown;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) pieces.push(read.value);
  } catch (thrown) {
    error = thrown ?? new Error("the readable errored without a reason");
  }
  await writing;
  return { received: concatBytes(pieces), error };
}

/** Long enough for a consumer that was going to take a write to have taken it. */
const WRITE_HOLD_CHECK_MS = 20;

/**
 * Writes `chunks` in order through one buffer, as the download reuses its chunk buffers: each chunk is copied into
 * the buffer, written, and the buffer is overwritten (with a marker) the moment the write resolves.
 */
async function writeReusing(writable: WritableStream<Uint8Array>, chunks: Uint8Array[]): Promise<void> {
  const writer = writable.getWriter();
  const buffer = new Uint8Array(Math.max(...chunks.map((chunk) => chunk.length)));
  for (const chunk of chunks) {
    buffer.set(chunk);
    await writer.write(buffer.subarray(0, chunk.length));
    buffer.fill(0xee);
  }
  await writer.close();
}

/** Reads `readable` to its end while `writing` runs; a writer's failure fails the read. */
async function drainWhile(readable: ReadableStream<Uint8Array>, writing: Promise<unknown>): Promise<{ received: Uint8Array<ArrayBuffer> }> {
  const reader = readable.getReader();
  const pieces: Uint8Array[] = [];
  for (let read = await reader.read(); !read.done; read = await reader.read()) pieces.push(read.value);
  await writing;
  return { received: concatBytes(pieces) };
}

/**
 * The behaviour the data path relies on from every `StreamRuntime`: the upload's whole-body hash and the
 * download's exact-length response pipe (and, on Node, the S3 upload body's). Each runtime's test file calls this once.
 */
export function describeStreamRuntimeContract(name: string, runtime: StreamRuntime, capabilities: StreamRuntimeCapabilities): void {
  describe(`StreamRuntime contract: ${name}`, () => {
    describe("wholeHasher", () => {
      async function hashOf(pieces: Uint8Array[]): Promise<string> {
        const hasher = runtime.wholeHasher();
        for (const piece of pieces) await hasher.update(piece);
        return toHex(await hasher.digest());
      }

      it("hashes a body fed in pieces to the SHA-256 of the whole", async () => {
        const body = randomBytes(300_000);
        expect(await hashOf(cut(body, [65_536]))).toBe(toHex(await sha256(body)));
      });

      it("hashes pieces of uneven sizes, off the chunk boundaries, to the SHA-256 of the whole", async () => {
        const body = randomBytes(3 * CHUNK + 17);
        expect(await hashOf(cut(body, [1, 7, CHUNK - 1, CHUNK + 1, 63]))).toBe(toHex(await sha256(body)));
      });

      it("hashes a body fed as one piece, and an empty one, to the reference SHA-256", async () => {
        const body = randomBytes(CHUNK + 5);
        expect(await hashOf([body])).toBe(toHex(await sha256(body)));
        expect(await hashOf([])).toBe(EMPTY_SHA256);
        expect(await hashOf([new Uint8Array(0)])).toBe(EMPTY_SHA256);
      });

      it("leaves every chunk it was fed as it was: the upload stores the same chunk afterwards", async () => {
        const chunk = randomBytes(CHUNK);
        const before = toHex(chunk);
        const hasher = runtime.wholeHasher();
        await hasher.update(chunk);
        expect(chunk.byteLength).toBe(CHUNK);
        expect(toHex(chunk)).toBe(before);
        await hasher.digest();
        expect(toHex(chunk)).toBe(before);
      });

      it("gives each hasher its own state", async () => {
        const [a, b] = [randomBytes(1000), randomBytes(1000)];
        const first = runtime.wholeHasher();
        const second = runtime.wholeHasher();
        await first.update(a);
        await second.update(b);
        await first.update(b);
        expect(toHex(await second.digest())).toBe(toHex(await sha256(b)));
        expect(toHex(await first.digest())).toBe(toHex(await sha256(concatBytes([a, b]))));
      });
    });

    describe("chunkSha256", () => {
      it("hashes a chunk, a view into a larger buffer, and an empty one to the reference SHA-256", async () => {
        const chunk = randomBytes(3 * CHUNK + 5);
        expect(toHex(await runtime.chunkSha256(chunk))).toBe(toHex(await sha256(chunk)));
        const view = chunk.subarray(CHUNK + 3, 2 * CHUNK + 1);
        expect(toHex(await runtime.chunkSha256(view))).toBe(toHex(await sha256(view.slice())));
        expect(toHex(await runtime.chunkSha256(new Uint8Array(0)))).toBe(EMPTY_SHA256);
      });

      it("is done with the chunk once it resolved: refilling the buffer then does not change the digest", async () => {
        const chunk = randomBytes(CHUNK);
        const before = toHex(chunk);
        const expected = toHex(await sha256(chunk.slice()));
        const digest = await runtime.chunkSha256(chunk);
        expect(toHex(chunk)).toBe(before);
        chunk.fill(0xee);
        expect(toHex(digest)).toBe(expected);
      });
    });

    describe.runIf(runtime.chunkHasher)("chunkHasher (where the runtime hashes a download's pieces as they arrive)", () => {
      const hashPieces = (pieces: Uint8Array[]) => {
        const hasher = runtime.chunkHasher!();
        for (const piece of pieces) hasher.update(piece);
        return toHex(hasher.digest());
      };

      it("hashes a chunk fed in uneven pieces, one piece, and no piece to the reference SHA-256", async () => {
        const chunk = randomBytes(3 * CHUNK + 5);
        expect(hashPieces(cut(chunk, [1, 7, CHUNK - 1, CHUNK + 3]))).toBe(toHex(await sha256(chunk)));
        expect(hashPieces([chunk])).toBe(toHex(await sha256(chunk)));
        expect(hashPieces([])).toBe(EMPTY_SHA256);
      });

      it("neither keeps nor alters a piece: refilling the pieces before the digest is taken does not change it", async () => {
        const chunk = randomBytes(2 * CHUNK);
        const before = toHex(chunk);
        const expected = toHex(await sha256(chunk.slice()));
        const hasher = runtime.chunkHasher!();
        for (const piece of cut(chunk, [CHUNK / 2])) hasher.update(piece);
        expect(toHex(chunk)).toBe(before);
        chunk.fill(0xee);
        expect(toHex(hasher.digest())).toBe(expected);
      });
    });

    describe("exactLengthPipe", () => {
      it("passes exactly `length` bytes through, in order, and ends cleanly", async () => {
        const parts = [randomBytes(4), randomBytes(6)];
        expect(await throughPipe(runtime, 10, parts, "close")).toEqual({ received: concatBytes(parts), error: undefined });
      });

      it("passes a multi-chunk body written in uneven pieces through unchanged", async () => {
        const body = randomBytes(2 * CHUNK + 3);
        const { received, error } = await throughPipe(runtime, body.length, cut(body, [1, CHUNK - 1, CHUNK]), "close");
        expect(error).toBeUndefined();
        expect(toHex(await sha256(received))).toBe(toHex(await sha256(body)));
      });

      it("ends cleanly with no bytes when `length` is 0 and it is closed at once (an empty object)", async () => {
        expect(await throughPipe(runtime, 0, [], "close")).toEqual({ received: new Uint8Array(0), error: undefined });
      });

      it("errors its readable when the writer aborts, so the response cannot end cleanly", async () => {
        const { received, error } = await throughPipe(runtime, 10, [randomBytes(4)], "abort");
        expect(received.length).toBeLessThanOrEqual(4);
        expect(error).toMatchObject({ message: "verification failed" });
      });

      it("errors its readable on an abort after bytes were already read (a tampered later chunk)", async () => {
        const pipe = runtime.exactLengthPipe(10);
        const writer = pipe.writable.getWriter();
        const reader = pipe.readable.getReader();
        const first = randomBytes(4);
        const written = writer.write(first);
        expect((await reader.read()).value).toEqual(first);
        await written;
        const aborted = writer.abort(new Error("verification failed")).catch(() => {});
        await expect(reader.read()).rejects.toMatchObject({ message: "verification failed" });
        await aborted;
      });

      it("delivers a write to the reader before the writer closes: the body streams, it is not held to the end", async () => {
        const pipe = runtime.exactLengthPipe(6);
        const writer = pipe.writable.getWriter();
        const reader = pipe.readable.getReader();
        const [a, b] = [randomBytes(2), randomBytes(4)];
        const writingA = writer.write(a);
        expect((await reader.read()).value).toEqual(a);
        await writingA;
        const writingB = writer.write(b);
        expect((await reader.read()).value).toEqual(b);
        await writingB;
        const closing = writer.close();
        expect((await reader.read()).done).toBe(true);
        await closing;
      });

      describe("writeReleasesChunk: a written chunk's buffer is free once its write resolved", () => {
        // Node's TransformStream resolves a write once the chunk is queued; its download keeps fresh buffers.
        const released = it.skipIf(!runtime.writeReleasesChunk);

        released("holds a write until the readable's consumer takes the bytes", async () => {
          const pipe = runtime.exactLengthPipe(CHUNK);
          const writer = pipe.writable.getWriter();
          let settled = false;
          const writing = writer.write(randomBytes(CHUNK)).finally(() => (settled = true));
          await new Promise((resolve) => setTimeout(resolve, WRITE_HOLD_CHECK_MS));
          expect(settled).toBe(false);
          const { received } = await drainWhile(
            pipe.readable,
            writing.then(() => writer.close()),
          );
          expect(received.length).toBe(CHUNK);
        });

        released("a JS reader receives the bytes as written, though the buffer is refilled as soon as the write resolves", async () => {
          const chunks = [randomBytes(CHUNK), randomBytes(CHUNK), randomBytes(CHUNK)];
          const expected = toHex(await sha256(concatBytes(chunks)));
          const pipe = runtime.exactLengthPipe(3 * CHUNK);
          const reading = drainWhile(pipe.readable, writeReusing(pipe.writable, chunks));
          expect(toHex(await sha256((await reading).received))).toBe(expected);
        });

        released("a response body consumed by the runtime receives the bytes as written, though the buffer is refilled at once", async () => {
          const chunks = [randomBytes(CHUNK), randomBytes(CHUNK), randomBytes(CHUNK)];
          const expected = toHex(await sha256(concatBytes(chunks)));
          const pipe = runtime.exactLengthPipe(3 * CHUNK);
          const writing = writeReusing(pipe.writable, chunks);
          const received = new Uint8Array(await new Response(pipe.readable).arrayBuffer());
          await writing;
          expect(toHex(await sha256(received))).toBe(expected);
        });
      });

      it.each([
        { name: "closed short of `length`", length: 10, sizes: [4] },
        { name: "closed one byte short of `length`", length: 10, sizes: [4, 5] },
        { name: "closed with nothing written", length: 10, sizes: [] },
      ])("errors its readable when $name", async ({ length, sizes }) => {
        const { received, error } = await throughPipe(runtime, length, sizes.map(randomBytes), "close");
        expect(received.length).toBeLessThan(length);
        expect(error).toMatchObject(capabilities.lengthError);
      });

      it.each([
        { name: "given more than `length`", length: 10, sizes: [4, 7] },
        { name: "given one byte more than `length`", length: 10, sizes: [10, 1] },
        { name: "given a byte while `length` is 0", length: 0, sizes: [1] },
      ])("errors its readable when $name", async ({ length, sizes }) => {
        const { received, error } = await throughPipe(runtime, length, sizes.map(randomBytes), "close");
        expect(received.length).toBeLessThanOrEqual(length);
        expect(error).toMatchObject(capabilities.lengthError);
      });
    });
  });
}
