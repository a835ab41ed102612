/**
 * The benchmark Worker: the real gateway (`createApp`, backends built as `functions/workers/backends.ts` builds them)
 * plus the `/bench/*` comparison routes on the same bindings. Local only (`npm run bench`).
 */
import { createApp } from "../functions/app.ts";
// The bench config declares no rate limiting bindings, so these backends run unlimited and log `rate_limit_disabled`.
import { backendsFor } from "../functions/workers/backends.ts";
import { toHex } from "../shared/crypto/encoding.ts";
import { VerigateError } from "../shared/errors/index.ts";
import { BENCH_PREFIX, addBenchRoutes, manifestOf, storedBody } from "./routes.ts";

export { CommitShard } from "../shared/metadata/durable-object.ts";
export { ReplayShard } from "../shared/replay/durable-object.ts";
export { UploadSessions } from "../shared/uploads/durable-object.ts";
export { LfsLocks } from "../shared/lfs/locks-durable-object.ts";

/** Where the raw put writes: outside the gateway's blob key space, so no manifest ever points at it. */
const RAW_PUT_PREFIX = "bench-raw/";

/** workerd hangs `DigestStream` off `crypto`, where the DOM typing of `crypto` does not know it. */
const workerdCrypto = crypto as unknown as { DigestStream: typeof DigestStream };

const app = addBenchRoutes(createApp((c) => backendsFor(c.env as Env)));

/** Whole-object SHA-256 in native code over the stored body as it arrives (`crypto.DigestStream`). */
app.get(`${BENCH_PREFIX}digest-stream/*`, async (c) => {
  const manifest = await manifestOf(c, "digest-stream");
  const digest = new workerdCrypto.DigestStream("SHA-256");
  await (await storedBody(c, manifest)).pipeTo(digest);
  if (toHex(new Uint8Array(await digest.digest)) !== manifest.sha256) throw new VerigateError("integrity_failure", "stream digest differs");
  return c.json({ bytes: manifest.size });
});

/** The raw put: the request body straight into the bucket, no hashing, no manifest. */
app.put(`${BENCH_PREFIX}raw/*`, async (c) => {
  const key = new URL(c.req.url).pathname.slice(`${BENCH_PREFIX}raw/`.length);
  const body = c.req.raw.body;
  if (!body) throw new VerigateError("length_required");
  // The binding itself, not `c.var.storage`: the storage port adds a FixedLengthStream the ceiling should not pay.
  const object = await (c.env as Env).OBJECTS.put(`${RAW_PUT_PREFIX}${key}`, body);
  return c.json({ size: object?.size ?? 0 }, 201);
});

/**
 * The raw multipart upload the session upload is compared with: the binding's multipart API, each part's request
 * body straight into R2, no hashing, no session record, no verification pass.
 */
app.post(`${BENCH_PREFIX}raw-multipart/create/*`, async (c) => {
  const key = new URL(c.req.url).pathname.slice(`${BENCH_PREFIX}raw-multipart/create/`.length);
  const upload = await (c.env as Env).OBJECTS.createMultipartUpload(`${RAW_PUT_PREFIX}${key}`);
  return c.json({ upload_id: upload.uploadId }, 201);
});

app.put(`${BENCH_PREFIX}raw-multipart/part/:uploadId/:part/*`, async (c) => {
  const { uploadId, part } = c.req.param();
  const key = new URL(c.req.url).pathname.split("/").slice(6).join("/");
  const body = c.req.raw.body;
  if (!body) throw new VerigateError("length_required");
  const upload = (c.env as Env).OBJECTS.resumeMultipartUpload(`${RAW_PUT_PREFIX}${key}`, uploadId);
  const stored = await upload.uploadPart(Number(part), body);
  return c.json({ etag: stored.etag });
});

app.post(`${BENCH_PREFIX}raw-multipart/complete/:uploadId/*`, async (c) => {
  const { uploadId } = c.req.param();
  const key = new URL(c.req.url).pathname.split("/").slice(5).join("/");
  const { parts } = await c.req.json<{ parts: { partNumber: number; etag: string }[] }>();
  const upload = (c.env as Env).OBJECTS.resumeMultipartUpload(`${RAW_PUT_PREFIX}${key}`, uploadId);
  await upload.complete([...parts].sort((a, b) => a.partNumber - b.partNumber));
  return c.json({ parts: parts.length }, 201);
});

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
