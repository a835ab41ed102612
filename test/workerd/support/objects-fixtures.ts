import { env } from "cloudflare:workers";
import type { MetadataStore } from "../../../shared/metadata/index.ts";
import { DurableObjectSwapAuthority } from "../../../shared/metadata/durable-object.ts";
import { KvMetadataStore } from "../../../shared/metadata/kv-binding.ts";
import { MemoryMetadataStore } from "../../../shared/metadata/memory.ts";
import type { ObjectDeps } from "../../../shared/objects/deps.ts";
import { type Manifest, versionKey } from "../../../shared/objects/manifest.ts";
import { putObject, type PutObjectInput } from "../../../shared/objects/upload.ts";
import { workerdStreams } from "../../../shared/streams/workerd.ts";
import { RecordingLogger } from "../../support/recording-logger.ts";
import type { ObjectStorage } from "../../../shared/storage/index.ts";
import { MemoryObjectStorage } from "../../../shared/storage/memory.ts";
import { R2ObjectStorage } from "../../../shared/storage/r2-binding.ts";
import { piecewiseStream } from "../../../shared/storage/piecewise.ts";

export { drain } from "../../support/drain.ts";

/** The smallest chunk size the configuration allows, so multi-chunk objects stay small. */
export const CHUNK = 64 * 1024;

/** A storage and metadata pair the object core runs on, and a way to overwrite a blob behind its back. */
export interface Backend {
  name: string;
  storage: ObjectStorage;
  metadata: MetadataStore;
  /** Replaces a blob's bytes without going through the object core: an untrusted store misbehaving. */
  tamper(blobKey: string, bytes: Uint8Array): Promise<void>;
}

export function backends(): Backend[] {
  const memory = new MemoryObjectStorage();
  return [
    {
      name: "r2 + kv",
      storage: new R2ObjectStorage(env.OBJECTS),
      metadata: new KvMetadataStore(env.META, new DurableObjectSwapAuthority(env.COMMITS)),
      tamper: async (blobKey, bytes) => {
        await env.OBJECTS.put(blobKey, bytes);
      },
    },
    {
      name: "memory",
      storage: memory,
      metadata: new MemoryMetadataStore(),
      tamper: (blobKey, bytes) => memory.put(blobKey, piecewise(bytes), { length: bytes.length }),
    },
  ];
}

/** Deps over `backend` with a recording logger and a clock the test moves by assigning `clock.now`. */
export function depsFor(backend: Backend, nowMs = Date.now()): ObjectDeps & { log: RecordingLogger; time: { now: number } } {
  const time = { now: nowMs };
  return {
    storage: backend.storage,
    metadata: backend.metadata,
    log: new RecordingLogger(),
    clock: () => time.now,
    streams: workerdStreams,
    config: PLAIN,
    time,
  };
}

/** The configuration of a deployment without ENCRYPTION_KEYS: manifests unsigned and read as they are. */
export const PLAIN: ObjectDeps["config"] = { encryption: { ring: null, readUnsignedLegacy: false } };

/** The `ver:` record of `version` as stored, unverified: what tests check was written or swept. */
export function storedVersion(metadata: MetadataStore, version: string): Promise<Manifest | null> {
  return metadata.get<Manifest>(versionKey(version));
}

/** Deterministic bytes that differ at every position between seeds, so a misplaced slice never passes. */
export function bytes(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let state = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/** A JS stream (no BYOB support) handing out `pieceBytes` at a time, like a network stream would. */
export function piecewise(data: Uint8Array, pieceBytes = 10_000): ReadableStream<Uint8Array> {
  return piecewiseStream(data, pieceBytes);
}

/** The native byte stream of a request body, which supports BYOB reads like the gateway's real input. */
export function requestBody(data: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  return new Request("http://gateway.test/", { method: "PUT", body: data }).body ?? new Blob([]).stream();
}

export function uniqueKey(name: string): string {
  return `t-${crypto.randomUUID()}/${name}`;
}

/** A PUT of `data` through the object core by "uploader" at `CHUNK`; `extra` replaces any of the input. */
export async function putBytes(deps: ObjectDeps, key: string, data: Uint8Array<ArrayBuffer>, extra: Partial<PutObjectInput> = {}): Promise<Manifest> {
  return putObject(deps, {
    key,
    length: data.length,
    expectedSha256: await sha256(data),
    keyid: "uploader",
    chunkSize: CHUNK,
    maxObjectBytes: 16 * CHUNK,
    requestId: "req-put-bytes",
    ...extra,
    body: extra.body ?? requestBody(data),
  });
}

/** Index of the first byte where `received` differs from `original`, or -1: a prefix check that names the spot. */
export function firstDifference(received: Uint8Array, original: Uint8Array): number {
  for (let i = 0; i < received.length; i++) if (received[i] !== original[i]) return i;
  return received.length > original.length ? original.length : -1;
}
