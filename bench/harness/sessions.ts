import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type Signer, expectTransfer, signedHeaders } from "./client.ts";
import type { BenchObject } from "./objects.ts";
import { payloadSlice } from "./payload.ts";

/** Parts in flight at once, as `verigate put` sends them by default (`--parallel 4`). */
export const PART_CONCURRENCY = 4;

export interface PartPlan {
  partSize: number;
  /** Each part's SHA-256, index 0 for part 1: computed once, outside every timed run. */
  digests: Buffer[];
}

export interface SessionTarget {
  origin: string;
  signer: Signer;
}

/** The parts the gateway chooses for `object` (asked once with a session that is then aborted) and their digests. */
export async function planParts(target: SessionTarget, object: BenchObject): Promise<PartPlan> {
  const created = await createSession(target, object, `${object.key}-plan`);
  await signedJson(target, "DELETE", `/v1/uploads/${created.upload_id}`, undefined, 204);
  return { partSize: created.part_size, digests: partDigests(object, created.part_size) };
}

function partDigests(object: BenchObject, partSize: number): Buffer[] {
  const digests: Buffer[] = [];
  for (let offset = 0; offset < object.size; offset += partSize) {
    const hash = createHash("sha256");
    for (const piece of payloadSlice(object.seed, offset, Math.min(partSize, object.size - offset))) hash.update(piece);
    digests.push(hash.digest());
  }
  return digests;
}

/**
 * `object` committed under its key through one session, untimed: created, every part sent, completed. No plan is
 * asked first, since that aborts a session and s3rver has no AbortMultipartUpload (docs/STORAGE.md).
 */
export async function uploadInSession(target: SessionTarget, object: BenchObject): Promise<void> {
  const created = await createSession(target, object, object.key);
  const plan = { partSize: created.part_size, digests: partDigests(object, created.part_size) };
  await eachPart(object, plan, (part, offset, length) =>
    putPart(target, `${target.origin}/v1/uploads/${created.upload_id}/parts/${part}`, object, plan, { part, offset, length }, 200),
  );
  await completeSession(target, created.upload_id);
}

export interface TimedPhases {
  /** Creating the upload and sending every part. */
  partsMs: number;
  /** Every complete call until the object is committed (several when the gateway verifies in slices). */
  completeMs: number;
}

/** Phase one of a session upload: create and send every part, `PART_CONCURRENCY` at a time. Returns the upload id. */
export async function sendSessionParts(target: SessionTarget, object: BenchObject, plan: PartPlan, key: string): Promise<string> {
  const created = await createSession(target, object, key);
  if (created.part_size !== plan.partSize) throw new Error(`the gateway chose ${created.part_size}-byte parts, the plan ${plan.partSize}`);
  await eachPart(object, plan, (part, offset, length) =>
    putPart(target, `${target.origin}/v1/uploads/${created.upload_id}/parts/${part}`, object, plan, { part, offset, length }, 200),
  );
  return created.upload_id;
}

/** Phase two: complete until committed, following every 202. */
export async function completeSession(target: SessionTarget, uploadId: string): Promise<number> {
  let calls = 0;
  for (;;) {
    calls++;
    const answer = await signedJson(target, "POST", `/v1/uploads/${uploadId}/complete`, {}, undefined);
    if (answer.status === 201) return calls;
    if (answer.status !== 202) throw new Error(`complete of ${uploadId} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
}

/** The bench Worker's raw multipart upload of the same parts: straight into R2, no hashing, no session, no verification. */
export async function rawMultipart(target: SessionTarget, object: BenchObject, plan: PartPlan, key: string): Promise<TimedPhases> {
  const started = performance.now();
  const created = await signedJson(target, "POST", `/bench/raw-multipart/create/${key}`, {}, 201);
  const uploadId = (created.body as { upload_id: string }).upload_id;
  const etags: { partNumber: number; etag: string }[] = [];
  await eachPart(object, plan, async (part, offset, length) => {
    const answer = await putPart(target, `${target.origin}/bench/raw-multipart/part/${uploadId}/${part}/${key}`, object, plan, { part, offset, length }, 200);
    etags.push({ partNumber: part, etag: (JSON.parse(answer) as { etag: string }).etag });
  });
  const partsDone = performance.now();
  await signedJson(target, "POST", `/bench/raw-multipart/complete/${uploadId}/${key}`, { parts: etags }, 201);
  return { partsMs: partsDone - started, completeMs: performance.now() - partsDone };
}

interface CreatedSession {
  upload_id: string;
  part_size: number;
}

async function createSession(target: SessionTarget, object: BenchObject, key: string): Promise<CreatedSession> {
  const answer = await signedJson(target, "POST", "/v1/uploads", { key, size: object.size, sha256: object.sha256.toString("hex") }, 201);
  return answer.body as CreatedSession;
}

/** Runs `send` for every part, at most `PART_CONCURRENCY` at once, in part order as slots free up. */
async function eachPart(object: BenchObject, plan: PartPlan, send: (part: number, offset: number, length: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < plan.digests.length) {
      const index = next++;
      const offset = index * plan.partSize;
      await send(index + 1, offset, Math.min(plan.partSize, object.size - offset));
    }
  };
  await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
}

async function putPart(
  target: SessionTarget,
  url: string,
  object: BenchObject,
  plan: PartPlan,
  part: { part: number; offset: number; length: number },
  status: number,
): Promise<string> {
  const digest = plan.digests[part.part - 1];
  if (!digest) throw new Error(`no digest for part ${part.part}`);
  const headers = { ...(await signedHeaders(target.signer, "PUT", url, digest)), "content-length": String(part.length) };
  const answer = await expectTransfer(url, status, { method: "PUT", headers, body: payloadSlice(object.seed, part.offset, part.length), keepText: true });
  return answer.text ?? "";
}

/** A signed request with a small JSON body (or none), answered with JSON (or nothing); `expect` undefined takes any status. */
async function signedJson(
  target: SessionTarget,
  method: string,
  path: string,
  json: unknown,
  expect: number | undefined,
): Promise<{ status: number; body: unknown }> {
  const url = `${target.origin}${path}`;
  const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  const digest = body === undefined ? undefined : createHash("sha256").update(body).digest();
  const headers: Record<string, string> = await signedHeaders(target.signer, method, url, digest);
  if (body) Object.assign(headers, { "content-type": "application/json", "content-length": String(body.length) });
  const response = await fetch(url, { method, headers, ...(body ? { body } : {}) });
  const text = await response.text();
  if (expect !== undefined && response.status !== expect) throw new Error(`${method} ${path} answered ${response.status}, expected ${expect}: ${text}`);
  return { status: response.status, body: text === "" ? null : (JSON.parse(text) as unknown) };
}
