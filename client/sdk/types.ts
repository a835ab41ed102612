/** Response and request shapes of the wire contract (PROTOCOL sections 3-5), snake_case as they travel. */
import type { Action, KeyAlgorithm, KeyRecord, Scope } from "../../shared/keys/index.ts";
import type { PublicKeyRecord } from "../../shared/keys/registry.ts";
import type { ListedObject, ObjectList } from "../../shared/objects/list.ts";
import type { LfsAccess } from "../../shared/lfs/repo.ts";
import type { LfsTokenView } from "../../shared/lfs/tokens.ts";
import type { PutResponseBody } from "../../shared/objects/manifest.ts";
import type { PlanBody } from "../../shared/objects/plan.ts";
import type { RewrapProgress } from "../../shared/objects/rewrap.ts";
import type { PresignMode } from "../../shared/presign/request.ts";
import type { CompletePendingBody, CreateUploadBody, PartBody, UploadStatusBody } from "../../shared/uploads/wire.ts";

// The shapes the gateway itself serialises; type-only imports, so nothing of the server is bundled.
export type { Action, KeyAlgorithm, KeyRecord, LfsAccess, ListedObject, ObjectList, PresignMode, PublicKeyRecord, RewrapProgress, Scope };

/** An LFS token as listings show it (PROTOCOL section 8, "Tokens"): never its secret. */
export type LfsToken = LfsTokenView;

/** `POST /v1/lfs/tokens`: the token, returned this once, and the value for `git config lfs.url`. */
export interface CreatedLfsToken extends LfsToken {
  /** `vglfs_<id>_<secret>`: the HTTP Basic password (any user name) of the repository's LFS routes. */
  token: string;
  lfs_url: string;
}

export interface Whoami {
  keyid: string;
  alg: KeyAlgorithm;
  scopes: Scope[];
  admin: boolean;
}

/** Upload session answers (PROTOCOL "Upload sessions"), as the gateway serialises them. */
export type UploadSession = CreateUploadBody;
export type StoredPart = PartBody;
export type UploadStatus = UploadStatusBody;
export type CompletePending = CompletePendingBody;

/** `POST /v1/uploads/{id}/parts/{n}/presign`: a storage UploadPart to send with exactly these headers. */
export interface PresignedPart {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  expires_at: string;
}

/** The 201 body of a PUT; `etag` keeps its quotes, ready for `ifMatch`. */
export type PutResult = PutResponseBody;

export interface PresignResult {
  /** Absolute: the SDK resolves the gateway's `/v1/dl/...` against the endpoint. */
  url: string;
  method: "GET";
  mode: PresignMode;
  expires_at: string | number;
  /** What the bytes behind `url` must be; for storage links it is the only thing vouching for them. */
  integrity: { sha256: string; size: number; chunk_size: number };
}

/**
 * `POST /v1/plans` (PROTOCOL "Direct download plans"): a window of whole chunks of one version, their digests as the
 * gateway read them (`chunks[i]` is chunk `first_chunk + i`'s), where a cut window stops (`next_offset`), and a
 * presigned storage GET of the version's blob to fetch byte ranges of. The digests are what the bytes from `url` are
 * checked against; nothing from storage vouches for itself.
 */
export type DownloadPlan = PlanBody;

export interface CreateKeyInput {
  keyid?: string;
  alg: KeyAlgorithm;
  /** ed25519: the raw public key, base64url. */
  public_key?: string;
  scopes: Scope[];
  admin?: boolean;
  /** RFC 3339. */
  expires_at?: string;
}

/** `GET /healthz`: what a gateway says of itself without authentication (PROTOCOL section 6). */
export interface Health {
  status: "ok" | "misconfigured";
  version: string;
  runtime: string;
  auth_mode: string;
  replay_store: { backend: string; atomic: boolean };
  storage: { backend: string };
  presign_storage: boolean;
  /** The largest PUT body accepted; absent from gateways older than this field. */
  max_object_bytes?: number;
  /** Problem codes that make the gateway refuse every signed route (status `misconfigured`). */
  problems?: string[];
  /** Settings some routes need, missing (e.g. `presign_secret_missing`), and lowered guards (`unsigned_manifests_readable`); the rest serve. */
  warnings?: string[];
  /** Present when ENCRYPTION_KEYS is set: key ids (never keys) and, from the last completed rewrap pass, what each protects. */
  encryption?: {
    current_kid: string;
    kids: string[];
    objects_by_kid: Record<string, number> | null;
    unsigned: number | null;
    started_at: string | null;
    finished_at: string | null;
  };
}
