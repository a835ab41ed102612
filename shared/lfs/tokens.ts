import { fromHex, sha256, sha256Hex, timingSafeEqual, toBase64Url, toHex } from "../crypto/encoding.ts";
import { SHARE, VerigateError } from "../errors/index.ts";
import { allows, type Principal } from "../keys/index.ts";
import { isReservedKeyid } from "../keys/validate.ts";
import type { KeyRegistry } from "../keys/registry.ts";
import type { MetadataStore } from "../metadata/index.ts";
import { type LfsAccess, type LfsCaller, isRepoName, lfsRepoPrefix } from "./repo.ts";

/**
 * LFS tokens (PROTOCOL section 8, "Tokens"): the password a stock git-lfs client sends with HTTP Basic. A token is
 * `vglfs_<id>_<secret>`; the record at `lfst:<id>` holds only the SHA-256 of the secret, so a leaked metadata store
 * yields no usable token. This module checks a token's own record (format, secret, expiry); what the record no
 * longer says by itself (the repository asked for, whether the minting key may still sign and still covers the
 * repository) is `lfsTokenCaller`'s part, which every use of a token must go through.
 */

/** Metadata prefix of token records (docs/STORAGE.md). */
const TOKEN_PREFIX = "lfst:";
/** 12 random bytes: the id is a record name, not a secret, and 96 bits never collide in practice. */
const TOKEN_ID_BYTES = 12;
/** 32 random bytes: the secret's whole strength, as for HMAC key secrets. */
const TOKEN_SECRET_BYTES = 32;
/** `vglfs_`, 24 hex digits of id, `_`, 43 base64url characters of secret (which may hold `_` themselves). */
const TOKEN_PATTERN = /^vglfs_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;
const TOKEN_ID_PATTERN = /^[0-9a-f]{24}$/;

/** A week: long enough for a working week of pushes from one credential helper entry, short enough to age out. */
export const LFS_TOKEN_DEFAULT_SECONDS = 7 * 24 * 3600;
/** A minute: below that a token expires while git-lfs is still negotiating its first batch. */
export const LFS_TOKEN_MIN_SECONDS = 60;
/** 90 days: the longest a credential lives unrotated, as for most forges' personal tokens. */
export const LFS_TOKEN_MAX_SECONDS = 90 * 24 * 3600;

export interface LfsTokenRecord {
  id: string;
  repo: string;
  access: LfsAccess;
  /** The key that minted the token: the token works only while that key may sign and covers the repository. */
  keyid: string;
  /** Lowercase hex SHA-256 of the secret's UTF-8 text; the secret itself is never stored. */
  secret_sha256: string;
  created_at: string;
  expires_at: string;
}

/** A token as listings show it: everything but the secret's hash. */
export type LfsTokenView = Omit<LfsTokenRecord, "secret_sha256">;

export interface LfsTokenRequest {
  repo: string;
  access: LfsAccess;
  expiresInSeconds: number;
}

export function lfsTokenView(record: LfsTokenRecord): LfsTokenView {
  const { secret_sha256: _hash, ...view } = record;
  return view;
}

/** Validates `POST /v1/lfs/tokens`'s body: `{ repo, access, expires_in? }`. */
export function parseLfsTokenRequest(input: Record<string, unknown>): LfsTokenRequest {
  const { repo, access, expires_in: expiresIn } = input;
  if (typeof repo !== "string" || !isRepoName(repo)) {
    throw new VerigateError("bad_request", "repo must be 1-100 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit, not ending with .", SHARE);
  }
  if (access !== "read" && access !== "write") throw new VerigateError("bad_request", "access must be read or write", SHARE);
  const seconds = expiresIn ?? LFS_TOKEN_DEFAULT_SECONDS;
  if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < LFS_TOKEN_MIN_SECONDS || seconds > LFS_TOKEN_MAX_SECONDS) {
    throw new VerigateError("bad_request", `expires_in must be a whole number of seconds from ${LFS_TOKEN_MIN_SECONDS} to ${LFS_TOKEN_MAX_SECONDS}`, SHARE);
  }
  return { repo, access, expiresInSeconds: seconds };
}

/**
 * Whether `key` may hold a token for `repo` with `access`: an admin key, or one whose scopes allow reading the
 * repository's prefix (and writing it, for a write token). Checked at minting and again on every use.
 */
export function mayHoldLfsToken(key: Principal, repo: string, access: LfsAccess): boolean {
  if (key.admin) return true;
  const prefix = lfsRepoPrefix(repo);
  return allows(key, "read", prefix) && (access === "read" || allows(key, "write", prefix));
}

/** Stores a new token for `request` on behalf of `minter`; the returned token string is never available again. */
export async function mintLfsToken(
  metadata: MetadataStore,
  minter: Principal,
  request: LfsTokenRequest,
  nowMs: number,
): Promise<{ record: LfsTokenRecord; token: string }> {
  // The unauthenticated caller of AUTH_MODE=off/soft is no key: a token it minted could never be checked against one.
  if (isReservedKeyid(minter.keyid)) throw new VerigateError("forbidden", "LFS tokens are minted by a signing key", SHARE);
  if (!mayHoldLfsToken(minter, request.repo, request.access)) {
    throw new VerigateError("forbidden", `key ${minter.keyid} may not ${request.access} ${lfsRepoPrefix(request.repo)}`, SHARE);
  }
  const id = toHex(crypto.getRandomValues(new Uint8Array(TOKEN_ID_BYTES)));
  const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(TOKEN_SECRET_BYTES)));
  const record: LfsTokenRecord = {
    id,
    repo: request.repo,
    access: request.access,
    keyid: minter.keyid,
    secret_sha256: await sha256Hex(secret),
    created_at: new Date(nowMs).toISOString(),
    expires_at: new Date(nowMs + request.expiresInSeconds * 1000).toISOString(),
  };
  await metadata.put(TOKEN_PREFIX + id, record);
  return { record, token: `vglfs_${id}_${secret}` };
}

/**
 * The record of `token` when the token is well formed, its record exists, its secret hashes to the stored hash
 * (compared in constant time) and it has not expired at `nowMs`; else null, without saying which check failed.
 */
export async function findLfsToken(metadata: MetadataStore, token: string, nowMs: number): Promise<LfsTokenRecord | null> {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const [, id = "", secret = ""] = match;
  const record = await metadata.get<LfsTokenRecord>(TOKEN_PREFIX + id);
  if (!record) return null;
  if (!timingSafeEqual(await sha256(secret), fromHex(record.secret_sha256))) return null;
  if (Date.parse(record.expires_at) <= nowMs) return null;
  return record;
}

/**
 * Who `token` speaks for in `repo` at `nowMs`, or null: its own record must hold (`findLfsToken`), name `repo`, and
 * its minting key must still be able to sign (`findUsable`: known, active, unexpired) and still cover the
 * repository for the token's access. So revoking the key or narrowing its scopes ends its tokens too.
 */
export async function lfsTokenCaller(metadata: MetadataStore, keys: KeyRegistry, token: string, repo: string, nowMs: number): Promise<LfsCaller | null> {
  return callerOf(keys, await findLfsToken(metadata, token, nowMs), repo, nowMs);
}

/**
 * Who LFS token `id` speaks for in `repo` at `nowMs`, or null, by the same checks as `lfsTokenCaller` but the secret's:
 * how an LFS action href (whose MAC stands for the secret) learns that the token it was issued under still holds.
 */
export async function lfsTokenCallerById(metadata: MetadataStore, keys: KeyRegistry, id: string, repo: string, nowMs: number): Promise<LfsCaller | null> {
  if (!TOKEN_ID_PATTERN.test(id)) return null;
  const record = await metadata.get<LfsTokenRecord>(TOKEN_PREFIX + id);
  return callerOf(keys, record && Date.parse(record.expires_at) > nowMs ? record : null, repo, nowMs);
}

async function callerOf(keys: KeyRegistry, record: LfsTokenRecord | null, repo: string, nowMs: number): Promise<LfsCaller | null> {
  if (!record || record.repo !== repo) return null;
  const key = await keys.findUsable(record.keyid, nowMs);
  if (!key || !mayHoldLfsToken(key, repo, record.access)) return null;
  return { repo, access: record.access, tokenId: record.id, owner: record.keyid };
}

/** The tokens `viewer` may see, by id: all of them for an admin key, else those it minted; optionally of one repo. */
export async function listLfsTokens(metadata: MetadataStore, viewer: Principal, repo: string | undefined): Promise<LfsTokenView[]> {
  const tokens: LfsTokenView[] = [];
  let cursor: string | undefined;
  do {
    const page = await metadata.list(TOKEN_PREFIX, cursor ? { cursor } : {});
    const records = await Promise.all(page.keys.map((key) => metadata.get<LfsTokenRecord>(key)));
    for (const record of records) {
      if (record && (viewer.admin || record.keyid === viewer.keyid) && (repo === undefined || record.repo === repo)) tokens.push(lfsTokenView(record));
    }
    cursor = page.cursor;
  } while (cursor);
  return tokens;
}

/**
 * Deletes token `id` when `caller` is an admin key or minted it and returns its record; null when there is no such
 * token the caller may see, so a token's existence is never revealed to another key.
 */
export async function revokeLfsToken(metadata: MetadataStore, caller: Principal, id: string): Promise<LfsTokenRecord | null> {
  if (!TOKEN_ID_PATTERN.test(id)) return null;
  const record = await metadata.get<LfsTokenRecord>(TOKEN_PREFIX + id);
  if (!record || !(caller.admin || record.keyid === caller.keyid)) return null;
  await metadata.delete(TOKEN_PREFIX + id);
  return record;
}
