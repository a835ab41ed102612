/** Key records, scopes and the caller identity derived from them (PROTOCOL section 1, "Keys and scopes"). */

export type KeyAlgorithm = "ed25519" | "hmac-sha256";
export type Action = "read" | "write" | "delete" | "list" | "presign";
export const ACTIONS: readonly Action[] = ["read", "write", "delete", "list", "presign"];

export interface Scope {
  prefix: string;
  actions: Action[];
}

export interface KeyRecord {
  keyid: string;
  alg: KeyAlgorithm;
  /** ed25519: raw 32-byte public key, base64url. */
  public_key?: string;
  /** hmac-sha256: the 32-byte secret, base64url. Stored, never returned after creation. */
  secret?: string;
  scopes: Scope[];
  admin: boolean;
  status: "active" | "revoked";
  created_at: string;
  expires_at?: string;
}

/** Who signed the request, once the signature verified. */
export interface Principal {
  keyid: string;
  alg: KeyAlgorithm;
  scopes: readonly Scope[];
  admin: boolean;
}

/** An action on object key `key` is allowed when some scope's prefix is a prefix of it and lists the action. */
export function allows(principal: Principal, action: Action, key: string): boolean {
  return principal.scopes.some((scope) => key.startsWith(scope.prefix) && scope.actions.includes(action));
}
