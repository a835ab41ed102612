import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import { apiErrorFrom, VerigateIntegrityError, VerigateUsageError } from "./errors.ts";
import { integrityOf, type ObjectIntegrity, verifyBytes } from "./integrity.ts";
import type { ClientKey } from "./keys.ts";
import { jsonBody, type ObjectBody, type OutgoingBody, outgoingBody, quotedEtag } from "./request-body.ts";
import { signatureHeaders } from "./signing.ts";
import { normaliseEndpoint, objectPath, rangeHeader } from "./urls.ts";
import type {
  CompletePending,
  CreateKeyInput,
  CreatedLfsToken,
  DownloadPlan,
  Health,
  KeyRecord,
  LfsAccess,
  LfsToken,
  ListedObject,
  ObjectList,
  PresignedPart,
  PresignMode,
  PresignResult,
  PublicKeyRecord,
  PutResult,
  RewrapProgress,
  StoredPart,
  UploadSession,
  UploadStatus,
  Whoami,
} from "./types.ts";
import { putLarge, type PartSource, type PutLargeOptions } from "./put-large.ts";

export interface VerigateClientOptions {
  /** The gateway's origin, e.g. `https://files.example.com`. */
  endpoint: string;
  key: ClientKey;
  /** Seconds added to this machine's clock when signing: a known skew, or a test of the freshness window. */
  clockOffsetSeconds?: number;
  fetch?: typeof fetch;
}

export interface PutObjectOptions {
  contentType?: string;
  /** Refuse to replace an existing object (`If-None-Match: *`): 409 `already_exists`. */
  ifNoneMatch?: boolean;
  /** Replace only this version: its ETag or SHA-256 hex. */
  ifMatch?: string;
  /** SHA-256 of the body, lowercase hex; required for a stream. */
  sha256?: string;
  /** Bytes in the body; required for a stream. */
  size?: number;
  signal?: AbortSignal;
}

export interface GetObjectOptions {
  /** One byte range; `length` absent reads to the end. */
  range?: { offset: number; length?: number };
  /** Serve `range` only while the object is still this ETag; otherwise the whole current object (200). */
  ifRange?: string;
  signal?: AbortSignal;
}

export interface ObjectResponse {
  /** 200 or 206; the body is still to be read, and verified by the reader. */
  response: Response;
  integrity: ObjectIntegrity;
}

export interface CreateUploadOptions {
  size: number;
  /** SHA-256 of the whole object, lowercase hex: complete commits only bytes that hash to it. */
  sha256: string;
  contentType?: string;
  /** As for `putObject`: checked at create, enforced by the commit at complete. */
  ifNoneMatch?: boolean;
  ifMatch?: string;
}

export interface CompleteUploadOptions {
  /** Called after each 202 with how far the gateway's verification got. */
  onVerifying?: (pending: CompletePending) => void;
  signal?: AbortSignal;
}

export interface ListObjectsOptions {
  prefix?: string;
  limit?: number;
  cursor?: string;
}

export interface PresignOptions {
  /** Seconds, 1..PRESIGN_MAX_SECONDS; the gateway's default is 300. */
  expiresIn?: number;
  singleUse?: boolean;
  mode?: PresignMode;
}

export interface PlanDownloadOptions {
  /** Pin a version (as a plan gave it); absent: the current one. */
  version?: string;
  /** Where the window starts, in bytes; it is widened to whole chunks. */
  offset?: number;
  /** Bytes from `offset`; absent: to the end (the gateway cuts a window at its chunk limit and says where via `next_offset`). */
  length?: number;
  /** Seconds the storage URL stays valid, 1..PRESIGN_MAX_SECONDS; the gateway's default is 300. */
  expiresIn?: number;
}

export interface CreateLfsTokenOptions {
  /** `write` lets the token upload and lock too; the default is a read token. */
  access?: LfsAccess;
  /** Seconds, 60..7,776,000 (90 days); the gateway's default is 7 days. */
  expiresIn?: number;
}

/** A signed request as data: sent by `send`, and sendable again, which is how a replay is shown to fail. */
export interface PreparedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
}

interface Outgoing {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: OutgoingBody;
  signal?: AbortSignal | undefined;
}

/**
 * Asked on every read: `fetch` would decode a compressed body, which then no longer matches Content-Length,
 * and Repr-Digest covers the unencoded bytes. Browsers ignore it (a page may not set Accept-Encoding).
 */
const IDENTITY_ENCODING = { "Accept-Encoding": "identity" } as const;
const REWRAP_PATH = "/v1/admin/encryption/rewrap";

/** Typed, signed calls for every route of PROTOCOL sections 3-5. Failures throw `VerigateApiError` with the wire code. */
export class VerigateClient {
  readonly endpoint: string;
  readonly keyid: string;
  readonly #key: ClientKey;
  readonly #clockOffsetSeconds: number;
  readonly #fetch: typeof fetch;

  constructor(options: VerigateClientOptions) {
    this.endpoint = normaliseEndpoint(options.endpoint);
    this.#key = options.key;
    this.keyid = options.key.keyid;
    this.#clockOffsetSeconds = options.clockOffsetSeconds ?? 0;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async whoami(): Promise<Whoami> {
    return this.#json<Whoami>({ method: "GET", path: "/v1/whoami" });
  }

  /** `GET /healthz`, unsigned. A misconfigured gateway (503) still describes itself; an answer that is not its JSON throws. */
  async health(): Promise<Health> {
    const response = await this.#fetch(`${this.endpoint}/healthz`);
    if (!response.headers.get("content-type")?.startsWith("application/json")) throw await apiErrorFrom(response);
    return (await response.json()) as Health;
  }

  async putObject(key: string, body: ObjectBody, options: PutObjectOptions = {}): Promise<PutResult> {
    const headers: Record<string, string> = {};
    const contentType = options.contentType ?? (body instanceof Blob && body.type !== "" ? body.type : undefined);
    if (contentType !== undefined) headers["Content-Type"] = contentType;
    if (options.ifNoneMatch) headers["If-None-Match"] = "*";
    if (options.ifMatch !== undefined) headers["If-Match"] = quotedEtag(options.ifMatch);
    return this.#json<PutResult>({
      method: "PUT",
      path: objectPath(key),
      headers,
      body: await outgoingBody(body, options),
      signal: options.signal,
    });
  }

  /** Streams an object; the caller reads `response.body` and checks it against `integrity`. */
  async getObject(key: string, options: GetObjectOptions = {}): Promise<ObjectResponse> {
    const headers: Record<string, string> = { ...IDENTITY_ENCODING };
    if (options.range !== undefined) headers.Range = rangeHeader(options.range);
    if (options.ifRange !== undefined) headers["If-Range"] = quotedEtag(options.ifRange);
    const response = await this.#ok({ method: "GET", path: objectPath(key), headers, signal: options.signal });
    try {
      return { response, integrity: integrityOf(response.headers) };
    } catch (error) {
      await response.body?.cancel();
      throw error;
    }
  }

  /**
   * Continues a read interrupted after `offset` bytes of the version `etag`: a 206 from `offset` while the object is
   * still that version (`resumed`), else the whole current object (200), whose bytes replace any kept ones. The
   * caller hashes the kept bytes and the new ones together and checks the whole against `integrity`.
   */
  async resumeObject(
    key: string,
    from: { offset: number; etag: string },
    options: { signal?: AbortSignal } = {},
  ): Promise<ObjectResponse & { resumed: boolean }> {
    const read = await this.getObject(key, { ...options, range: { offset: from.offset }, ifRange: from.etag });
    const resumed = read.response.status === 206;
    if (resumed && (read.integrity.offset !== from.offset || read.integrity.etag !== quotedEtag(from.etag))) {
      await read.response.body?.cancel();
      throw new VerigateIntegrityError(
        "unverifiable",
        `asked for ${from.etag} from byte ${from.offset}, got ${read.integrity.contentRange} of ${read.integrity.etag}`,
      );
    }
    return { ...read, resumed };
  }

  /** Reads a whole object into memory and verifies it with WebCrypto; for objects that fit in memory. */
  async getObjectBytes(key: string, options: { signal?: AbortSignal } = {}): Promise<{ bytes: Uint8Array<ArrayBuffer>; integrity: ObjectIntegrity }> {
    const { response, integrity } = await this.getObject(key, options);
    const bytes = new Uint8Array(await response.arrayBuffer());
    await verifyBytes(bytes, integrity);
    return { bytes, integrity };
  }

  async headObject(key: string): Promise<ObjectIntegrity> {
    const response = await this.#ok({ method: "HEAD", path: objectPath(key), headers: { ...IDENTITY_ENCODING } });
    return integrityOf(response.headers);
  }

  async listObjects(options: ListObjectsOptions = {}): Promise<ObjectList> {
    const query = new URLSearchParams();
    if (options.prefix !== undefined) query.set("prefix", options.prefix);
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.cursor !== undefined) query.set("cursor", options.cursor);
    const search = query.size > 0 ? `?${query}` : "";
    return this.#json<ObjectList>({ method: "GET", path: `/v1/objects${search}` });
  }

  /** Every object under `prefix`, following cursors. */
  async *listAllObjects(prefix?: string): AsyncGenerator<ListedObject> {
    let cursor: string | undefined;
    do {
      const page = await this.listObjects({ ...(prefix === undefined ? {} : { prefix }), ...(cursor === undefined ? {} : { cursor }) });
      yield* page.objects;
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined);
  }

  async deleteObject(key: string): Promise<void> {
    await this.#ok({ method: "DELETE", path: objectPath(key) });
  }

  async presign(key: string, options: PresignOptions = {}): Promise<PresignResult> {
    const request = {
      key,
      ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn }),
      ...(options.singleUse === undefined ? {} : { single_use: options.singleUse }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
    };
    const result = await this.#json<PresignResult>({ method: "POST", path: "/v1/presign", ...(await jsonBody(request)) });
    return { ...result, url: new URL(result.url, `${this.endpoint}/`).href };
  }

  /**
   * `POST /v1/plans`: a direct download plan (needs `presign` and `read` on the key, and storage presign enabled by
   * the operator). The caller fetches ranges of `url` itself and checks every chunk against `chunks` before using it.
   */
  async planDownload(key: string, options: PlanDownloadOptions = {}): Promise<DownloadPlan> {
    const request = {
      key,
      ...(options.version === undefined ? {} : { version: options.version }),
      ...(options.offset === undefined ? {} : { offset: options.offset }),
      ...(options.length === undefined ? {} : { length: options.length }),
      ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn }),
    };
    const plan = await this.#json<DownloadPlan>({ method: "POST", path: "/v1/plans", ...(await jsonBody(request)) });
    return { ...plan, url: new URL(plan.url, `${this.endpoint}/`).href };
  }

  /** Opens a presigned link (no signature: the link is the credential); check the body against `presign.integrity`. */
  async fetchPresigned(presign: Pick<PresignResult, "url">, options: { signal?: AbortSignal } = {}): Promise<Response> {
    const response = await this.#fetch(presign.url, {
      headers: { ...IDENTITY_ENCODING },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok) throw await apiErrorFrom(response);
    return response;
  }

  readonly keys = {
    create: async (input: CreateKeyInput): Promise<KeyRecord> => this.#json<KeyRecord>({ method: "POST", path: "/v1/keys", ...(await jsonBody(input)) }),
    list: async (): Promise<PublicKeyRecord[]> => (await this.#json<{ keys: PublicKeyRecord[] }>({ method: "GET", path: "/v1/keys" })).keys,
    get: async (keyid: string): Promise<PublicKeyRecord> => this.#json<PublicKeyRecord>({ method: "GET", path: `/v1/keys/${encodeURIComponent(keyid)}` }),
    revoke: async (keyid: string): Promise<void> => {
      await this.#ok({ method: "DELETE", path: `/v1/keys/${encodeURIComponent(keyid)}` });
    },
  };

  /** Encryption key rotation (PROTOCOL section 5), admin keys only. */
  readonly encryption = {
    /** `POST /v1/admin/encryption/rewrap`: starts or resumes the rewrap pass and does one bounded slice of it. */
    rewrap: async (): Promise<RewrapProgress> => this.#json<RewrapProgress>({ method: "POST", path: REWRAP_PATH, ...(await jsonBody({})) }),
    /** `GET /v1/admin/encryption/rewrap`: the pass's progress, without working. */
    rewrapProgress: async (): Promise<RewrapProgress> => this.#json<RewrapProgress>({ method: "GET", path: REWRAP_PATH }),
  };

  /**
   * `POST /v1/lfs/tokens`: an LFS token for `repo` (the key needs `read` on `lfs/<repo>/`, and `write` for a write
   * token, or to be an admin key). The token is returned this once.
   */
  async createLfsToken(repo: string, options: CreateLfsTokenOptions = {}): Promise<CreatedLfsToken> {
    const request = { repo, access: options.access ?? "read", ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn }) };
    return this.#json<CreatedLfsToken>({ method: "POST", path: "/v1/lfs/tokens", ...(await jsonBody(request)) });
  }

  /** `GET /v1/lfs/tokens`: every token for an admin key, else those this key minted; optionally of one repository. */
  async listLfsTokens(options: { repo?: string } = {}): Promise<LfsToken[]> {
    const query = options.repo === undefined ? "" : `?repo=${encodeURIComponent(options.repo)}`;
    return (await this.#json<{ tokens: LfsToken[] }>({ method: "GET", path: `/v1/lfs/tokens${query}` })).tokens;
  }

  /** `DELETE /v1/lfs/tokens/{id}`: another key's token is `not_found`, as an unknown one. */
  async revokeLfsToken(id: string): Promise<void> {
    await this.#ok({ method: "DELETE", path: `/v1/lfs/tokens/${encodeURIComponent(id)}` });
  }

  /** `POST /v1/uploads`: opens an upload session; the answer says how to cut the object into parts. */
  async createUpload(key: string, options: CreateUploadOptions): Promise<UploadSession> {
    const { headers, body } = await jsonBody({
      key,
      size: options.size,
      sha256: options.sha256,
      ...(options.contentType === undefined ? {} : { content_type: options.contentType }),
    });
    if (options.ifNoneMatch) headers["If-None-Match"] = "*";
    if (options.ifMatch !== undefined) headers["If-Match"] = quotedEtag(options.ifMatch);
    return this.#json<UploadSession>({ method: "POST", path: "/v1/uploads", headers, body });
  }

  /** `PUT /v1/uploads/{id}/parts/{n}`: one part through the gateway; a stream needs its `sha256` and `size`. Sending a part again replaces it. */
  async uploadPart(
    uploadId: string,
    part: number,
    body: ObjectBody,
    options: { sha256?: string; size?: number; signal?: AbortSignal } = {},
  ): Promise<StoredPart> {
    return this.#json<StoredPart>({ method: "PUT", path: partPath(uploadId, part), body: await outgoingBody(body, options), signal: options.signal });
  }

  /** `POST /v1/uploads/{id}/parts/{n}/presign`: a storage URL for one part, bound to its SHA-256 (hex). */
  async presignPart(uploadId: string, part: number, sha256: string): Promise<PresignedPart> {
    return this.#json<PresignedPart>({ method: "POST", path: `${partPath(uploadId, part)}/presign`, ...(await jsonBody({ sha256 })) });
  }

  /** `POST /v1/uploads/{id}/parts/{n}`: records a part sent to storage directly, with the ETag storage answered. */
  async registerPart(uploadId: string, part: number, stored: { sha256: string; etag: string }): Promise<StoredPart> {
    return this.#json<StoredPart>({ method: "POST", path: partPath(uploadId, part), ...(await jsonBody(stored)) });
  }

  /**
   * Sends one part straight to storage through a presigned URL (no signature: the URL is the credential, and its
   * signed checksum header makes storage refuse other bytes), then records it. Complete still verifies every byte.
   */
  async uploadPartDirect(uploadId: string, part: number, bytes: Uint8Array<ArrayBuffer>, options: { signal?: AbortSignal } = {}): Promise<StoredPart> {
    const digest = toHex(await sha256(bytes));
    const presigned = await this.presignPart(uploadId, part, digest);
    const response = await this.#fetch(presigned.url, {
      method: presigned.method,
      headers: presigned.headers,
      body: bytes,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok) throw await apiErrorFrom(response);
    await response.body?.cancel();
    const etag = response.headers.get("etag");
    if (etag === null) throw new VerigateUsageError(`storage accepted part ${part} without an ETag to record it by`);
    return this.registerPart(uploadId, part, { sha256: digest, etag });
  }

  /** `GET /v1/uploads/{id}`: the session and the parts stored, for a resume. */
  async uploadStatus(uploadId: string): Promise<UploadStatus> {
    return this.#json<UploadStatus>({ method: "GET", path: uploadPath(uploadId) });
  }

  /**
   * `POST /v1/uploads/{id}/complete`, called again after every 202 once its `Retry-After` passed (each call verifies
   * one slice), until the 201 of the committed object. A mismatch is `VerigateApiError` `digest_mismatch`.
   */
  async completeUpload(uploadId: string, options: CompleteUploadOptions = {}): Promise<PutResult> {
    while (true) {
      const response = await this.#ok({ method: "POST", path: `${uploadPath(uploadId)}/complete`, ...(await jsonBody({})), signal: options.signal });
      if (response.status !== 202) return (await response.json()) as PutResult;
      options.onVerifying?.((await response.json()) as CompletePending);
      await delay(retryAfterMs(response.headers.get("retry-after")), options.signal);
    }
  }

  /** `DELETE /v1/uploads/{id}`: aborts a session and removes its parts. */
  async abortUpload(uploadId: string): Promise<void> {
    await this.#ok({ method: "DELETE", path: uploadPath(uploadId) });
  }

  /**
   * Uploads an object of any size through an upload session, part by part with bounded concurrency, resuming a
   * session when asked (see put-large.ts); `source` is a `Blob` or anything that reads a byte range.
   */
  putLarge(key: string, source: Blob | PartSource, options: PutLargeOptions = {}): Promise<PutResult> {
    return putLarge(this, key, source, options);
  }

  /** Signs a request without sending it: `path` includes any query, `body` is sent as is. */
  async prepare(method: string, path: string, body?: Uint8Array<ArrayBuffer>): Promise<PreparedRequest> {
    const url = new URL(`${this.endpoint}${path}`).href;
    const headers = await this.sign(method, url, body === undefined ? undefined : await sha256(body));
    return { url, method, headers, ...(body === undefined ? {} : { body }) };
  }

  /** Sends a prepared request as it is; the raw response, whatever its status. */
  send(request: PreparedRequest): Promise<Response> {
    return this.#fetch(request.url, { method: request.method, headers: request.headers, ...(request.body ? { body: request.body } : {}) });
  }

  /**
   * The headers that sign one request (Signature-Input, Signature, and Content-Digest when `bodySha256` is given),
   * with a fresh nonce and this client's clock, for a caller that sends the request itself (`verigate sign`, curl).
   * `url` is absolute and signed in its WHATWG form, the form it must be sent in.
   */
  async sign(method: string, url: string, bodySha256?: Uint8Array): Promise<Record<string, string>> {
    const nowSeconds = Math.floor(Date.now() / 1000) + this.#clockOffsetSeconds;
    return signatureHeaders({ method, url, key: this.#key, nowSeconds, ...(bodySha256 ? { bodySha256 } : {}) });
  }

  async #ok(outgoing: Outgoing): Promise<Response> {
    const url = new URL(`${this.endpoint}${outgoing.path}`).href;
    const signature = await this.sign(outgoing.method, url, outgoing.body?.sha256);
    const headers = { ...outgoing.headers, ...signature };
    const init: RequestInit & { duplex?: "half" } = { method: outgoing.method, headers };
    if (outgoing.signal) init.signal = outgoing.signal;
    if (outgoing.body) {
      init.body = outgoing.body.data;
      if (outgoing.body.data instanceof ReadableStream) {
        // A stream has no length of its own; the gateway needs it declared before the first byte.
        headers["Content-Length"] = String(outgoing.body.size);
        init.duplex = "half";
      }
    }
    const response = await this.#fetch(url, init);
    if (!response.ok) throw await apiErrorFrom(response);
    return response;
  }

  async #json<T>(outgoing: Outgoing): Promise<T> {
    return (await (await this.#ok(outgoing)).json()) as T;
  }
}

const MS_PER_SECOND = 1000;

/** Seconds of `Retry-After` as milliseconds; absent or not a number of seconds: at once. */
function retryAfterMs(header: string | null): number {
  const seconds = Number(header ?? 0);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * MS_PER_SECOND : 0;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

function uploadPath(uploadId: string): string {
  return `/v1/uploads/${encodeURIComponent(uploadId)}`;
}

function partPath(uploadId: string, part: number): string {
  return `${uploadPath(uploadId)}/parts/${part}`;
}
