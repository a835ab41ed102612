import { fromBase64 } from "../crypto/encoding.ts";
import { isReservedKeyid, validKeyid } from "../keys/validate.ts";
import type { ConfigProblem } from "./problems.ts";

export interface AdminKey {
  keyid: string;
  /** Raw 32-byte ed25519 public key, base64url. */
  publicKey: string;
}

/** `ADMIN_KEYS`: comma-separated `keyid=<base64url raw ed25519 public key>`. */
export function parseAdminKeys(raw: string | undefined, problems: ConfigProblem[]): AdminKey[] {
  if (raw === undefined) return [];
  const keys: AdminKey[] = [];
  for (const entry of raw.split(",")) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const at = trimmed.indexOf("=");
    const keyid = trimmed.slice(0, at).trim();
    const publicKey = trimmed.slice(at + 1).trim();
    if (at <= 0 || !validKeyid(keyid) || isReservedKeyid(keyid) || !isRawEd25519PublicKey(publicKey)) {
      problems.push("invalid_admin_keys");
      continue;
    }
    keys.push({ keyid, publicKey });
  }
  return keys;
}

function isRawEd25519PublicKey(text: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return false;
  try {
    return fromBase64(text).length === 32;
  } catch {
    return false;
  }
}
