import { Hono, type Context } from "hono";
import { SHARE, VerigateError } from "../../shared/errors/index.ts";
import { isLockId, parseCreateLock, parseListLocks, parseUnlock, parseVerifyLocks } from "../../shared/lfs/lock-requests.ts";
import { type LfsLock, lockedAt, newLockId } from "../../shared/lfs/locks.ts";
import type { AppEnv } from "../context.ts";
import { lfsProblem } from "../http/lfs-errors.ts";
import { lfsJson, readLfsJson, requireLfsAccept } from "../http/lfs-request.ts";
import { lfsBasicAuth, requireLfsCaller, requireLfsWrite } from "../middleware/lfs-auth.ts";
import { jsonBodyLimit } from "../middleware/body.ts";

const authenticated = lfsBasicAuth();

/** The 409 of a lock create on a held path, in locking.md's shape: the existing `lock` beside the error's `message`. */
function lockExists(c: Context<AppEnv>, existing: LfsLock): Response {
  return lfsProblem(c, "lock_exists", `${existing.path} is already locked by ${existing.owner.name}`, { lock: existing });
}

/**
 * Git LFS file locking (git-lfs docs/api/locking.md; PROTOCOL section 8, "Locks") at `/lfs/{repo}/locks...`, mounted
 * by lfs.ts. Every route is behind HTTP Basic with an LFS token for the repository; all but the listing need a
 * write token, as locking.md asks for push access. A lock's owner is the key that minted the token.
 */
export const lfsLocks = new Hono<AppEnv>()
  .post("/:repo/locks", authenticated, jsonBodyLimit, async (c) => {
    requireLfsAccept(c);
    const caller = requireLfsWrite(c);
    const { path } = parseCreateLock(await readLfsJson(c));
    const lock: LfsLock = { id: newLockId(), path, locked_at: lockedAt(c.var.clock()), owner: { name: caller.owner } };
    const result = await c.var.lfsLocks.create(caller.repo, lock);
    if (!result.created) return lockExists(c, result.existing);
    c.var.log.log("info", "lfs_lock_created", { request_id: c.var.requestId, repo: caller.repo, lock_id: lock.id, path, owner: caller.owner });
    return lfsJson(c, { lock }, 201);
  })
  .get("/:repo/locks", authenticated, async (c) => {
    requireLfsAccept(c);
    const caller = requireLfsCaller(c);
    const query = parseListLocks(c.req.query());
    if (query.id !== undefined && !isLockId(query.id)) return lfsJson(c, { locks: [] });
    return lfsJson(c, await c.var.lfsLocks.list(caller.repo, query));
  })
  .post("/:repo/locks/verify", authenticated, jsonBodyLimit, async (c) => {
    requireLfsAccept(c);
    const caller = requireLfsWrite(c);
    const { locks, next_cursor: nextCursor } = await c.var.lfsLocks.list(caller.repo, parseVerifyLocks(await readLfsJson(c)));
    const ours = locks.filter((lock) => lock.owner.name === caller.owner);
    const theirs = locks.filter((lock) => lock.owner.name !== caller.owner);
    return lfsJson(c, { ours, theirs, ...(nextCursor === undefined ? {} : { next_cursor: nextCursor }) });
  })
  .post("/:repo/locks/:id/unlock", authenticated, jsonBodyLimit, async (c) => {
    requireLfsAccept(c);
    const caller = requireLfsWrite(c);
    const { force } = parseUnlock(await readLfsJson(c));
    const id = c.req.param("id");
    const result = isLockId(id) ? await c.var.lfsLocks.remove(caller.repo, id, caller.owner, force) : { missing: true as const };
    if ("missing" in result) throw new VerigateError("not_found", "no lock has this id", SHARE);
    if ("notOwner" in result) {
      throw new VerigateError("forbidden", `the lock is owned by ${result.notOwner.owner.name}; unlock with force to break it`, SHARE);
    }
    const { removed } = result;
    c.var.log.log("info", "lfs_lock_removed", {
      request_id: c.var.requestId,
      repo: caller.repo,
      lock_id: removed.id,
      path: removed.path,
      owner: removed.owner.name,
      by: caller.owner,
      forced: removed.owner.name !== caller.owner,
    });
    return lfsJson(c, { lock: removed });
  });
