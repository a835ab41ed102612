import type { Context } from "hono";
import type { Config } from "../shared/config/index.ts";
import type { Principal } from "../shared/keys/index.ts";
import type { Logger } from "../shared/log.ts";
import type { MetadataStore } from "../shared/metadata/index.ts";
import type { ReplayStore } from "../shared/replay/index.ts";
import type { ObjectStorage } from "../shared/storage/index.ts";
import type { UploadSessionStore } from "../shared/uploads/store.ts";
import type { LfsLockStore } from "../shared/lfs/locks.ts";
import type { LfsCaller } from "../shared/lfs/repo.ts";
import type { StreamRuntime } from "../shared/streams/index.ts";
import type { RateLimits } from "../shared/ratelimit/index.ts";

/** Epoch milliseconds; injected so tests can move time without waiting. */
export type Clock = () => number;

/** What an entry file injects for every request. Handlers read these from `c.var`, never from `c.env`. */
export interface Backends {
  config: Readonly<Config>;
  replay: ReplayStore;
  metadata: MetadataStore;
  storage: ObjectStorage;
  /** Upload sessions and their parts (strongly consistent). */
  uploads: UploadSessionStore;
  /** Git LFS file locks (strongly consistent). */
  lfsLocks: LfsLockStore;
  /** The runtime's native hashing and exact-length streams. */
  streams: StreamRuntime;
  clock: Clock;
  log: Logger;
  /** Flood control; undefined where the operator relies on limits in front of the gateway instead. */
  limits: RateLimits | undefined;
  /** The client's address as the runtime knows it (never a header the client could set). */
  clientAddress: (c: Context<AppEnv>) => string;
}

export interface AppVariables extends Backends {
  requestId: string;
  /** Set by the auth middleware once the signature verified; undefined on unauthenticated routes. */
  principal: Principal | undefined;
  /** Set by LFS Basic auth once the token verified; undefined elsewhere. */
  lfs: LfsCaller | undefined;
  /** The path as log lines show it, where the request path holds a secret (a link token); else the path itself. */
  logPath: string | undefined;
}

export interface AppEnv {
  Variables: AppVariables;
}
