import { toHex } from "../../../shared/crypto/encoding.ts";
import { MemoryMetadataStore } from "../../../shared/metadata/memory.ts";
import type { ObjectStorage } from "../../../shared/storage/index.ts";
import { MemoryObjectStorage } from "../../../shared/storage/memory.ts";
import { completeUpload, type CompleteOutcome } from "../../../shared/uploads/complete.ts";
import { createUpload, type CreateUploadInput, type UploadLimits } from "../../../shared/uploads/create.ts";
import type { UploadDeps } from "../../../shared/uploads/deps.ts";
import { MemoryUploadSessionStore } from "../../../shared/uploads/memory.ts";
import { uploadPart } from "../../../shared/uploads/parts.ts";
import type { UploadSession } from "../../../shared/uploads/store.ts";
import { workerdStreams } from "../../../shared/streams/workerd.ts";
import type { PutResponseBody } from "../../../shared/objects/manifest.ts";
import { RecordingLogger } from "../../support/recording-logger.ts";
import { CHUNK, PLAIN, requestBody, sha256 } from "./objects-fixtures.ts";

/** The smallest part R2 and S3 take: objects of two or three parts stay a few MiB. */
export const PART = 5 * 1024 * 1024;

export const LIMITS: UploadLimits = { chunkSize: CHUNK, uploadPartBytes: PART, maxUploadSessionBytes: 64 * PART, uploadSessionSeconds: 3600 };

export type SessionDeps = UploadDeps & { log: RecordingLogger; time: { now: number } };

/** The session core on memory backends with a clock the test moves; `storage` wraps the memory store when given. */
export function sessionDeps(wrap?: (storage: ObjectStorage) => ObjectStorage, nowMs = Date.UTC(2026, 10, 30)): SessionDeps {
  const time = { now: nowMs };
  const memory = new MemoryObjectStorage();
  return {
    storage: wrap ? wrap(memory) : memory,
    metadata: new MemoryMetadataStore(),
    uploads: new MemoryUploadSessionStore(),
    log: new RecordingLogger(),
    clock: () => time.now,
    streams: workerdStreams,
    config: PLAIN,
    time,
  };
}

export async function openSession(
  deps: UploadDeps,
  key: string,
  data: Uint8Array<ArrayBuffer>,
  extra: Partial<CreateUploadInput> = {},
): Promise<UploadSession> {
  return createUpload(deps, { key, size: data.length, sha256: toHex(await sha256(data)), contentType: undefined, keyid: "uploader", ...extra }, LIMITS);
}

/** The bytes of part `part` (1-based) of `data` in `session`. */
export function partOf(session: UploadSession, data: Uint8Array<ArrayBuffer>, part: number): Uint8Array<ArrayBuffer> {
  return data.slice((part - 1) * session.part_size, Math.min(part * session.part_size, data.length));
}

export async function sendPart(deps: UploadDeps, session: UploadSession, part: number, bytes: Uint8Array<ArrayBuffer>, digestOf = bytes) {
  return uploadPart(deps, session, part, { body: requestBody(bytes), length: bytes.length, sha256: await sha256(digestOf) });
}

export async function sendParts(deps: UploadDeps, session: UploadSession, data: Uint8Array<ArrayBuffer>, order?: number[]): Promise<void> {
  for (const part of order ?? Array.from({ length: session.part_count }, (_, i) => i + 1)) await sendPart(deps, session, part, partOf(session, data, part));
}

/** Calls complete until it answers 201, as a client honouring 202 does; every answer in order. */
export async function completeAll(
  deps: UploadDeps,
  id: string,
  sliceBytes: number,
  onPending?: () => void,
): Promise<{ body: PutResponseBody; answers: CompleteOutcome[] }> {
  const answers: CompleteOutcome[] = [];
  for (let calls = 0; calls < 1000; calls++) {
    const session = await deps.uploads.get(id);
    if (!session) throw new Error(`session ${id} is gone`);
    const outcome = await completeUpload(deps, session, { sliceBytes, requestId: "req-uploads" });
    answers.push(outcome);
    if (outcome.done) return { body: outcome.body, answers };
    onPending?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new Error("complete never finished");
}
