/**
 * The `/bench/*` comparison routes every runtime's bench server adds next to the real gateway. They read
 * the same manifest and blob as `GET /v1/objects/{key}` through the same backends (`c.var`), behind the
 * same signed-request middleware, so each variant differs from the product route only in what happens to
 * the bytes. They are what the product must not do (serve unverified or buffered bytes): never deploy them.
 */
import type { Context, Hono } from "hono";
import type { AppEnv } from "../functions/context.ts";
import { signedRequests } from "../functions/middleware/auth.ts";
import { MIB } from "../shared/bytes.ts";
import { toHex } from "../shared/crypto/encoding.ts";
import { VerigateError } from "../shared/errors/index.ts";
import { chunkDigests } from "../shared/objects/chunk-digests.ts";
import { chunkReader } from "../shared/objects/chunk-reader.ts";
import { type Manifest, readCurrent } from "../shared/objects/manifest.ts";

export const BENCH_PREFIX = "/bench/";
/** One replay claim window, as the gateway asks for one: max signature age plus skew, in seconds. */
const CLAIM_WINDOW_SECONDS = 330;
/** The size of one in-memory hashing step: the gateway's default verification chunk. */
const MEMORY_HASH_CHUNK_BYTES = MIB;

/** The manifest of the object named by the path after `/bench/<variant>/`, read exactly as the GET route reads it. */
export async function manifestOf(c: Context<AppEnv>, variant: string): Promise<Manifest> {
  const key = decodeURIComponent(new URL(c.req.url).pathname.slice(`${BENCH_PREFIX}${variant}/`.length));
  const manifest = await readCurrent(c.var, key);
  if (!manifest) throw new VerigateError("not_found", key);
  return manifest;
}

export async function storedBody(c: Context<AppEnv>, manifest: Manifest): Promise<ReadableStream<Uint8Array>> {
  const stored = await c.var.storage.get(manifest.blob);
  if (!stored) throw new VerigateError("not_found", manifest.blob);
  return stored.body;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

export function addBenchRoutes(app: Hono<AppEnv>): Hono<AppEnv> {
  const authenticate = signedRequests();
  app.use(`${BENCH_PREFIX}*`, async (c, next) => (c.req.path === `${BENCH_PREFIX}claim` ? next() : authenticate(c, next)));

  /** The raw ceiling: the stored body streamed through unverified. */
  app.get(`${BENCH_PREFIX}raw/*`, async (c) => {
    const manifest = await manifestOf(c, "raw");
    return new Response(await storedBody(c, manifest), { headers: { "content-length": String(manifest.size) } });
  });

  /** What common LFS proxies ship: read the whole object, hash it, then send it. */
  app.get(`${BENCH_PREFIX}buffered/*`, async (c) => {
    const manifest = await manifestOf(c, "buffered");
    const bytes = new Uint8Array(await new Response(await storedBody(c, manifest)).arrayBuffer());
    if ((await sha256Hex(bytes)) !== manifest.sha256) throw new VerigateError("integrity_failure", "buffered digest differs");
    return new Response(bytes, { headers: { "content-length": String(manifest.size) } });
  });

  /**
   * The verified path minus the sending: the same chunk reads and per-chunk digests, nothing written. Where the
   * verified path reuses its chunk buffers (`writeReleasesChunk`), this reuses one, so both allocate alike.
   */
  app.get(`${BENCH_PREFIX}read-hash/*`, async (c) => {
    const manifest = await manifestOf(c, "read-hash");
    const reader = chunkReader(await storedBody(c, manifest));
    const recycle = c.var.streams.writeReleasesChunk;
    const digests = chunkDigests(c.var, manifest);
    let chunk: Uint8Array<ArrayBuffer> | undefined;
    let bytes = 0;
    const chunkCount = Math.ceil(manifest.size / manifest.chunk_size);
    for (let index = 0; index < chunkCount; index++) {
      const expected = await digests.digest(index);
      chunk = await reader.read(Math.min(manifest.chunk_size, manifest.size - bytes), recycle ? chunk?.buffer : undefined);
      bytes += chunk.length;
      if (toHex(await c.var.streams.chunkSha256(chunk)) !== expected) throw new VerigateError("integrity_failure", `chunk ${index} differs`);
    }
    return c.json({ bytes });
  });

  /**
   * The verified path's reading alone: the same chunk reads into JavaScript, one buffer reused, nothing hashed or sent.
   * With `write-memory` and native hashing it splits the verified path's CPU into the three parts it cannot skip.
   */
  app.get(`${BENCH_PREFIX}read-only/*`, async (c) => {
    const manifest = await manifestOf(c, "read-only");
    const reader = chunkReader(await storedBody(c, manifest));
    let chunk: Uint8Array<ArrayBuffer> | undefined;
    let bytes = 0;
    while (bytes < manifest.size) {
      chunk = await reader.read(Math.min(manifest.chunk_size, manifest.size - bytes), chunk?.buffer);
      if (chunk.length === 0) throw new VerigateError("integrity_failure", `blob ends at ${bytes} bytes`);
      bytes += chunk.length;
    }
    return c.json({ bytes });
  });

  /**
   * The verified path's sending alone: the object's size written from memory, chunk by chunk, into the runtime's
   * exact-length pipe as the download writes its verified chunks, with no storage read. The bytes are a fixed pattern.
   */
  app.get(`${BENCH_PREFIX}write-memory/*`, async (c) => {
    const manifest = await manifestOf(c, "write-memory");
    const pipe = c.var.streams.exactLengthPipe(manifest.size);
    // Two buffers in turn, as the download cycles its two; their content never changes, so reuse is safe anywhere.
    const buffers = [0, 1].map((fill) => new Uint8Array(manifest.chunk_size).fill(fill));
    const writer = pipe.writable.getWriter();
    void (async () => {
      let writing = Promise.resolve();
      for (let at = 0, index = 0; at < manifest.size; at += manifest.chunk_size, index++) {
        await writing;
        writing = writer.write(buffers[index % 2]!.subarray(0, Math.min(manifest.chunk_size, manifest.size - at)));
      }
      await writing;
      await writer.close();
    })().catch((error: unknown) => writer.abort(error).catch(() => {}));
    return new Response(pipe.readable, { headers: { "content-length": String(manifest.size) } });
  });

  /**
   * Native SHA-256 alone: the object's size hashed chunk by chunk from memory, no storage read, by the runtime's
   * `chunkSha256` as the download hashes. Timed here
   * so request overhead is not counted (local workerd's clock does advance during execution, in 1 ms steps).
   */
  app.get(`${BENCH_PREFIX}hash-memory/*`, async (c) => {
    const manifest = await manifestOf(c, "hash-memory");
    // SHA-256 runs in the same time whatever the bytes; a fixed pattern avoids getRandomValues' 64 KiB cap.
    const chunk = new Uint8Array(MEMORY_HASH_CHUNK_BYTES).map((_, index) => index);
    const started = performance.now();
    for (let hashed = 0; hashed < manifest.size; hashed += chunk.length) await c.var.streams.chunkSha256(chunk);
    return c.json({ bytes: manifest.size, ms: performance.now() - started });
  });

  /** One replay-store claim of a fresh id, as the auth middleware makes it, without any signature work. */
  app.post(`${BENCH_PREFIX}claim`, async (c) => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const id = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const claimed = await c.var.replay.claim(id, { nowSeconds, expiresAtSeconds: nowSeconds + CLAIM_WINDOW_SECONDS });
    return c.json({ claimed });
  });
  return app;
}
