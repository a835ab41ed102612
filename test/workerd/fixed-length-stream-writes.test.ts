/**
 * Pins the workerd behaviour the verified download's buffer reuse rests on (shared/objects/download.ts,
 * `writeReleasesChunk` in shared/streams/workerd.ts): a write to a `FixedLengthStream` resolves only once the
 * consumer of the readable has taken its bytes, and by then the runtime no longer reads the caller's buffer.
 * The download refills a chunk's buffer with the next (unverified) chunk the moment its write resolves. If a
 * runtime update resolved writes earlier while still reading the caller's buffer later (a JS TransformStream
 * resolves on queueing, and Node's socket writes read the buffer after that), these tests fail, and the
 * download would be sending bytes it never verified. Each case refills the buffer right after the write
 * resolves and checks that the consumer got the original bytes. (workerd 1.20261117 copies a chunk when `write`
 * is called, so even an earlier refill goes unseen today; the download relies only on the weaker property.)
 */
import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import { testGateway } from "./support/gateway.ts";
import { bytes } from "./support/objects-fixtures.ts";
import { concatBytes } from "../support/bytes.ts";

const CHUNK = 64 * 1024;
/** Long enough for a consumer that was going to take a write to have taken it. */
const SETTLE_MS = 20;
/** The pause a slow client takes before each read. */
const SLOW_READ_PAUSE_MS = 1;
/** A marker no test chunk is made of. */
const REFILL = 0xee;

/** workerd hangs `DigestStream` off `crypto`, where the DOM typing of `crypto` does not know it. */
const workerdCrypto = crypto as unknown as { DigestStream: typeof DigestStream };

function chunksOf(count: number): Uint8Array<ArrayBuffer>[] {
  return Array.from({ length: count }, (_, index) => bytes(CHUNK, index + 1));
}

/** Writes `chunks` through one reused buffer, refilling it with a marker the moment each write resolves. */
async function writeThroughOneBuffer(writable: WritableStream<Uint8Array>, chunks: Uint8Array[]): Promise<void> {
  const writer = writable.getWriter();
  const buffer = new Uint8Array(CHUNK);
  for (const chunk of chunks) {
    buffer.set(chunk);
    await writer.write(buffer.subarray(0, chunk.length));
    buffer.fill(REFILL);
  }
  await writer.close();
}

/** Reads to the end, pausing before each read as a client on a slow link would. */
async function readSlowly(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, SLOW_READ_PAUSE_MS));
    const { value, done } = await reader.read();
    if (done) return concatBytes(parts);
    parts.push(value);
  }
}

function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return () => done;
}

describe("FixedLengthStream writes in workerd (the download's buffer reuse depends on these)", () => {
  it("keeps a write pending while nobody reads, and while a reader has taken only part of the chunk", async () => {
    const pipe = new FixedLengthStream(CHUNK);
    const writer = pipe.writable.getWriter();
    const chunk = bytes(CHUNK, 7);
    const written = writer.write(chunk);
    const isDone = settled(written);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(isDone()).toBe(false);

    const reader = pipe.readable.getReader({ mode: "byob" });
    const part = await reader.read(new Uint8Array(1024));
    expect(part.value).toEqual(chunk.subarray(0, 1024));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(isDone()).toBe(false);

    let taken = part.value?.length ?? 0;
    while (taken < CHUNK) taken += (await reader.read(new Uint8Array(CHUNK))).value?.length ?? 0;
    await written;
  });

  it("hands the bytes to a JS reader as written, though the buffer is refilled as each write resolves", async () => {
    const chunks = chunksOf(8);
    const pipe = new FixedLengthStream(8 * CHUNK);
    const writing = writeThroughOneBuffer(pipe.writable, chunks);
    const received = new Uint8Array(await new Response(pipe.readable).arrayBuffer());
    await writing;
    expect(toHex(await sha256(received))).toBe(toHex(await sha256(concatBytes(chunks))));
  });

  it("hands the bytes to a native pipe (pipeTo a DigestStream) as written, though the buffer is refilled as each write resolves", async () => {
    const chunks = chunksOf(8);
    const pipe = new FixedLengthStream(8 * CHUNK);
    const digest = new workerdCrypto.DigestStream("SHA-256");
    const piping = pipe.readable.pipeTo(digest);
    await writeThroughOneBuffer(pipe.writable, chunks);
    await piping;
    expect(toHex(new Uint8Array(await digest.digest))).toBe(toHex(await sha256(concatBytes(chunks))));
  });

  it("serves an 8-chunk verified GET byte for byte to a slow client while the download cycles two buffers through R2 reads", async () => {
    const gateway = await testGateway({ CHUNK_SIZE_BYTES: String(CHUNK) });
    const body = concatBytes(chunksOf(8));
    const created = await gateway.signed("PUT", "/v1/objects/reuse/many-chunks.bin", { body, headers: { "content-length": String(body.length) } });
    expect(created.status).toBe(201);
    const got = await gateway.signed("GET", "/v1/objects/reuse/many-chunks.bin");
    expect(got.status).toBe(200);
    // A slow client: writes wait on it, so a buffer refilled too early would show in what arrives.
    const received = await readSlowly(got.body ?? new Blob([]).stream());
    expect(received.length).toBe(body.length);
    expect(toHex(await sha256(received))).toBe(toHex(await sha256(body)));
  });
});
