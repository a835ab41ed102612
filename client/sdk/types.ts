/** Response and request shapes of the wire contract (PROTOCOL sections 3-5), snake_case as they travel. */
import type { Action, KeyAlgorithm, KeyRecord, Scope } from "../../shared/keys/index.ts";

export type { Action, KeyAlgorithm, KeyRecord, Scope };

/** A key record as listed: the HMAC secret appears only in the response that created it. */
export type PublicKeyRecord = Omit<KeyRecord, "secret">;

export interface Whoami {
  keyid: string;
  alg: KeyAlgorithm;
  scopes: Scope[];
  admin: boolean;
}

export interface PutResult {
  key: string;
  version: string;
  size: number;
  sha256: string;
  chunk_size: number;
  /** The ETag value, quotes included, ready for `ifMatch`. */
  etag: string;
}

export interface ListedObject {
  key: string;
  size: number;
  sha256: string;
  version: string;
  uploaded_at: string;
}

export interface ObjectList {
  objects: ListedObject[];
  /** Null on the last page; a page may hold fewer objects than asked while this is not null. */
  cursor: string | null;
}

export type PresignMode = "gateway" | "storage";

export interface PresignResult {
  /** Absolute: the SDK resolves the gateway's `/v1/dl/...` against the endpoint. */
  url: string;
  method: "GET";
  mode: PresignMode;
  expires_at: string | number;
  /** What the bytes behind `url` must be; for storage links it is the only thing vouching for them. */
  integrity: { sha256: string; size: number; chunk_size: number };
}

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
