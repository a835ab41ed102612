import { type Config, loadConfig, type Vars } from "../../shared/config/index.ts";
import { WORKERS_BINDINGS } from "../../shared/config/workers.ts";
import { consoleLogger } from "../../shared/log.ts";
import { DurableObjectSwapAuthority } from "../../shared/metadata/durable-object.ts";
import { KvMetadataStore } from "../../shared/metadata/kv-binding.ts";
import { DurableObjectReplayStore } from "../../shared/replay/durable-object.ts";
import { KvReplayStore } from "../../shared/replay/kv-binding.ts";
import { MemoryReplayStore } from "../../shared/replay/memory.ts";
import type { ReplayStore } from "../../shared/replay/index.ts";
import { R2ObjectStorage } from "../../shared/storage/r2-binding.ts";
import { workerdStreams } from "../../shared/streams/workerd.ts";
import { DurableObjectUploadSessionStore } from "../../shared/uploads/durable-object.ts";
import { DurableObjectLfsLockStore } from "../../shared/lfs/locks-durable-object.ts";
import type { RateLimits } from "../../shared/ratelimit/index.ts";
import { WorkersRateLimiter } from "../../shared/ratelimit/workers-binding.ts";
import type { Backends } from "../context.ts";

/** Built once per environment object: config parsing and validation are not repeated per request. */
const backendsByEnv = new WeakMap<Env, Backends>();
/** The memory replay store must outlive a request to remember anything; one per isolate. */
const memoryReplay = new MemoryReplayStore();

/** The config of `env`: its variables, and which of the bindings shared/config requires it declares. */
export function workersConfig(env: Env): Readonly<Config> {
  return loadConfig(env as unknown as Vars, { runtime: "workers", bindings: WORKERS_BINDINGS.filter((name) => Boolean(env[name])) });
}

function replayStore(config: Config, env: Env): ReplayStore {
  switch (config.replayStore) {
    case "kv":
      return new KvReplayStore(env.META);
    case "memory":
      return memoryReplay;
    default:
      return new DurableObjectReplayStore(env.REPLAY);
  }
}

/** Both rate limiting bindings, or none: the operator may rely on WAF rate limiting rules in front instead. */
function rateLimits(env: Env): RateLimits | undefined {
  if (!env.RATE_LIMIT_CLIENT || !env.RATE_LIMIT_KEY) return undefined;
  return { perClient: new WorkersRateLimiter(env.RATE_LIMIT_CLIENT), perKey: new WorkersRateLimiter(env.RATE_LIMIT_KEY) };
}

/** The Workers backends of `env`, built once per environment object; the bench Worker serves through it too. */
export function backendsFor(env: Env): Backends {
  let backends = backendsByEnv.get(env);
  if (!backends) {
    const config = workersConfig(env);
    backends = {
      config,
      // Constructed even when misconfigured: the guard refuses every route that would touch them.
      replay: replayStore(config, env),
      // KV for records, the commit Durable Object for every conditional write of them.
      metadata: new KvMetadataStore(env.META, new DurableObjectSwapAuthority(env.COMMITS)),
      storage: new R2ObjectStorage(env.OBJECTS),
      uploads: new DurableObjectUploadSessionStore(env.UPLOADS),
      lfsLocks: new DurableObjectLfsLockStore(env.LFS_LOCKS),
      streams: workerdStreams,
      clock: Date.now,
      log: consoleLogger,
      limits: rateLimits(env),
      // Set by Cloudflare's edge, which overwrites any value a client sends.
      clientAddress: (c) => c.req.header("cf-connecting-ip") ?? "unknown",
    };
    if (!backends.limits) consoleLogger.log("warn", "rate_limit_disabled", { reason: "RATE_LIMIT_CLIENT or RATE_LIMIT_KEY binding missing" });
    if (config.replayStore === "kv") consoleLogger.log("warn", "replay_store_best_effort", { backend: "kv" });
    // A storage URL hands out bytes the gateway never checks; the operator should see that choice in the log.
    if (config.presignStorage) consoleLogger.log("warn", "presign_storage_enabled", { bucket_configured: config.s3 !== undefined });
    backendsByEnv.set(env, backends);
  }
  return backends;
}
