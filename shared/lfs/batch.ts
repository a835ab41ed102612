import { fromHex, toHex } from "../crypto/encoding.ts";
import type { MetadataStore } from "../metadata/index.ts";
import { TREE_FANOUT, treePagesPrefix } from "../objects/digest-tree.ts";
import { GC_GRACE_MS, MAX_UPLOAD_DURATION_MS, scheduleGarbage, treeGarbage } from "../objects/garbage.ts";
import { type Manifest, type ManifestReader, readCurrent } from "../objects/manifest.ts";
import { blobKeyFor, newVersion } from "../objects/version.ts";
import { type ActionClaims, type ActionOp, issueActionToken } from "./action-token.ts";
import { BASIC_TRANSFER, type BatchRequest } from "./batch-request.ts";
import { isOid, type LfsCaller, lfsObjectKey } from "./repo.ts";

/**
 * The batch API's answer (git-lfs `docs/api/batch.md`, PROTOCOL section 8): per object, actions whose hrefs are the
 * gateway's own transfer routes (or, for an upload larger than one request, a presigned storage PUT) carrying an
 * action token, or an error. An object is present in a repository only when the current manifest at
 * `lfs/<repo>/<oid>` hashes to that oid and has that size: anything else stored there is treated as absent.
 */

/** How long an action href works: long enough for a slow push of many objects, short as bearer URLs go. */
export const ACTION_LIFETIME_SECONDS = 60 * 60;
/** The stores' single PutObject maximum (S3 and R2: 5 GiB); a larger object has no upload path. */
export const STORE_SINGLE_PUT_MAX_BYTES = 5 * 1024 ** 3;
/** Random bytes of an upload href's nonce: spent in the replay store on first use. */
const NONCE_BYTES = 16;

export interface ActionLink {
  href: string;
  header?: Record<string, string>;
  expires_in: number;
  expires_at: string;
}

export interface BatchObject {
  oid: string;
  size: number;
  authenticated?: true;
  actions?: Partial<Record<"download" | "upload" | "verify", ActionLink>>;
  error?: { code: number; message: string };
}

export interface BatchResponse {
  transfer: typeof BASIC_TRANSFER;
  objects: BatchObject[];
  hash_algo: "sha256";
}

/** A presigned PUT straight to storage and the headers the uploader must send with it. */
export type StoragePutSigner = (
  blobKey: string,
  sha256: Uint8Array,
  length: number,
  expiresInSeconds: number,
) => Promise<{ url: string; headers: Record<string, string> }>;

export interface BatchContext {
  caller: LfsCaller;
  /** The gateway's origin, which action hrefs name. */
  origin: string;
  /** PRESIGN_SECRET: action tokens are MAC'd with a key derived from it. */
  secret: string;
  nowMs: number;
  /** The largest body the gateway's upload route takes in one request (MAX_OBJECT_BYTES; on Lambda, its payload cap). */
  gatewayUploadBytes: number;
  chunkSize: number;
  /** Signs a storage PUT for an upload above `gatewayUploadBytes`; undefined where storage presign is off. */
  signStoragePut: StoragePutSigner | undefined;
}

export async function planBatch(deps: ManifestReader, request: BatchRequest, context: BatchContext): Promise<BatchResponse> {
  const objects: BatchObject[] = [];
  // One at a time: a storage upload writes a garbage record, and 100 objects of metadata reads are cheap in sequence.
  for (const item of request.objects) objects.push(await planObject(deps, request.operation, item, context));
  return { transfer: BASIC_TRANSFER, objects, hash_algo: "sha256" };
}

async function planObject(
  deps: ManifestReader,
  operation: BatchRequest["operation"],
  item: BatchRequest["objects"][number],
  context: BatchContext,
): Promise<BatchObject> {
  const echo = { oid: typeof item.oid === "string" ? item.oid : "", size: typeof item.size === "number" ? item.size : 0 };
  if (!isOid(item.oid)) return { ...echo, error: { code: 422, message: "oid must be a SHA-256 in lowercase hex (64 characters)" } };
  if (!Number.isSafeInteger(item.size) || (item.size as number) < 0) return { ...echo, error: { code: 422, message: "size must be a whole number of bytes" } };
  const object = { oid: item.oid, size: item.size as number };
  const current = await readCurrent(deps, lfsObjectKey(context.caller.repo, object.oid));
  // Anything at the key that does not hash to the oid (planted through /v1/objects, say) is no LFS object.
  const stored = current?.sha256 === object.oid ? current : null;
  if (stored && stored.size !== object.size) {
    return { ...object, error: { code: 422, message: `size disagrees with the stored object (${stored.size} bytes)` } };
  }
  if (operation === "download") {
    if (!stored) return { ...object, error: { code: 404, message: "Object does not exist" } };
    return withActions(object, { download: await gatewayAction(context, "download", object, { version: stored.version }) });
  }
  if (stored) return object;
  return planUpload(deps.metadata, object, context);
}

async function planUpload(metadata: MetadataStore, object: { oid: string; size: number }, context: BatchContext): Promise<BatchObject> {
  if (object.size <= context.gatewayUploadBytes) {
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
    return withActions(object, {
      upload: await gatewayAction(context, "upload", object, { nonce }),
      verify: await gatewayAction(context, "verify", object, {}),
    });
  }
  if (!context.signStoragePut) {
    const message = `${object.size} bytes; uploads through this gateway are at most ${context.gatewayUploadBytes} bytes and storage presign is off`;
    return { ...object, error: { code: 422, message } };
  }
  if (object.size > STORE_SINGLE_PUT_MAX_BYTES) {
    return { ...object, error: { code: 422, message: `${object.size} bytes; a single storage upload is at most ${STORE_SINGLE_PUT_MAX_BYTES} bytes` } };
  }
  const version = await stageStorageUpload(metadata, context, object);
  const signed = await context.signStoragePut(blobKeyFor(version), fromHex(object.oid), object.size, ACTION_LIFETIME_SECONDS);
  return withActions(object, {
    upload: { href: signed.url, header: signed.headers, ...expiry(context) },
    verify: await gatewayAction(context, "verify", object, { version }),
  });
}

/**
 * A fresh version for bytes that go straight to storage, with its garbage record written first: due once no verify
 * can still commit it (the action's expiry plus the longest a verify may run), so a blob that is never verified, or
 * fails verification, is swept, and one that was committed is kept (the sweep keeps a current version).
 */
async function stageStorageUpload(metadata: MetadataStore, context: BatchContext, object: { oid: string; size: number }): Promise<string> {
  const version = newVersion(context.nowMs);
  const key = lfsObjectKey(context.caller.repo, object.oid);
  const tree = treeGarbage({ pages: treePagesPrefix(version), fanout: TREE_FANOUT }, Math.ceil(object.size / context.chunkSize));
  const dueMs = actionExpiryMs(context) + MAX_UPLOAD_DURATION_MS + GC_GRACE_MS;
  await scheduleGarbage(metadata, dueMs, { key, version, blob: blobKeyFor(version), ...(tree ? { tree } : {}) });
  return version;
}

/** When a verify of a storage upload staged at batch time may no longer commit: past this its blob may be swept. */
export function verifyDeadlineMs(claims: Pick<ActionClaims, "exp">): number {
  return claims.exp * 1000 + MAX_UPLOAD_DURATION_MS;
}

async function gatewayAction(
  context: BatchContext,
  op: ActionOp,
  object: { oid: string; size: number },
  extra: Pick<ActionClaims, "version" | "nonce">,
): Promise<ActionLink> {
  const { repo, tokenId } = context.caller;
  const claims: ActionClaims = { op, repo, oid: object.oid, size: object.size, tid: tokenId, exp: Math.floor(actionExpiryMs(context) / 1000), ...extra };
  const token = await issueActionToken(claims, context.secret);
  return { href: `${context.origin}/lfs/${repo}/${op}/${token}`, ...expiry(context) };
}

function actionExpiryMs(context: BatchContext): number {
  return (Math.floor(context.nowMs / 1000) + ACTION_LIFETIME_SECONDS) * 1000;
}

/** git-lfs prefers `expires_in`; `expires_at` is RFC 3339 to the second, as the spec asks. */
function expiry(context: BatchContext): Pick<ActionLink, "expires_in" | "expires_at"> {
  return { expires_in: ACTION_LIFETIME_SECONDS, expires_at: new Date(actionExpiryMs(context)).toISOString().replace(/\.\d{3}Z$/, "Z") };
}

function withActions(object: { oid: string; size: number }, actions: NonNullable<BatchObject["actions"]>): BatchObject {
  return { ...object, authenticated: true, actions };
}

/** Whether `manifest` is the LFS object `oid` of `size` bytes: the one test of presence, shared by every route. */
export function isLfsObject(manifest: Manifest | null, oid: string, size: number): boolean {
  return manifest !== null && manifest.sha256 === oid && manifest.size === size;
}
