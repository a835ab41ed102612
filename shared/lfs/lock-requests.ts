import { SHARE, VerigateError } from "../errors/index.ts";
import { type LockQuery, lockPathProblem, MAX_LOCK_PAGE } from "./locks.ts";

/**
 * The lock requests of git-lfs `docs/api/locking.md`, checked before any store is asked. A malformed field is
 * 400 `bad_request` with a detail naming it (git-lfs prints an error body's `message` for any 4xx). `ref` (and
 * `refspec`) is tolerated and unused: locks are per repository, as in locking.md's single-branch locking, and a
 * token's access is per repository, not per ref.
 */

/** A lock id as `newLockId` makes them; anything else names no lock, so the routes do not ask a store about it. */
const LOCK_ID = /^[0-9a-f]{32}$/;
/** A page size as a query string carries it: decimal digits, no sign, no exponent. */
const DECIMAL = /^[0-9]{1,9}$/;

function badRequest(detail: string): VerigateError {
  return new VerigateError("bad_request", detail, SHARE);
}

function fields(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("the body must be a JSON object");
  return body as Record<string, unknown>;
}

function lockPath(path: unknown, name: string): string {
  const problem = lockPathProblem(path);
  if (problem !== undefined) throw badRequest(`${name}: ${problem}`);
  return path as string;
}

/** A page size of at least 1; more than `MAX_LOCK_PAGE` is served as `MAX_LOCK_PAGE` (locking.md lets the server bound it). */
function pageSize(limit: number | undefined): number {
  if (limit === undefined) return MAX_LOCK_PAGE;
  if (!Number.isSafeInteger(limit) || limit < 1) throw badRequest("limit must be a positive integer");
  return Math.min(limit, MAX_LOCK_PAGE);
}

/** Whether `id` has the shape of a lock id; one that does not names no lock. */
export function isLockId(id: string): boolean {
  return LOCK_ID.test(id);
}

/** `POST /locks`: `{ path, ref? }`. */
export function parseCreateLock(body: unknown): { path: string } {
  return { path: lockPath(fields(body).path, "path") };
}

/** `GET /locks?path=&id=&cursor=&limit=&refspec=`; an `id` is kept as sent (see `isLockId`). */
export function parseListLocks(query: Record<string, string | undefined>): LockQuery {
  const { path, id, cursor, limit } = query;
  if (limit !== undefined && !DECIMAL.test(limit)) throw badRequest("limit must be a positive integer");
  return {
    ...(path === undefined ? {} : { path: lockPath(path, "path") }),
    ...(id === undefined ? {} : { id }),
    ...(cursor === undefined ? {} : { cursor: lockPath(cursor, "cursor") }),
    limit: pageSize(limit === undefined ? undefined : Number(limit)),
  };
}

/** `POST /locks/verify`: `{ cursor?, limit?, ref? }`. */
export function parseVerifyLocks(body: unknown): { cursor?: string; limit: number } {
  const { cursor, limit } = fields(body);
  if (limit !== undefined && typeof limit !== "number") throw badRequest("limit must be a positive integer");
  return { ...(cursor === undefined ? {} : { cursor: lockPath(cursor, "cursor") }), limit: pageSize(limit) };
}

/** `POST /locks/:id/unlock`: `{ force?, ref? }`. */
export function parseUnlock(body: unknown): { force: boolean } {
  const { force } = fields(body);
  if (force !== undefined && typeof force !== "boolean") throw badRequest("force must be true or false");
  return { force: force === true };
}
