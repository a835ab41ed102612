import { Hono } from "hono";
import type { Config } from "../shared/config/index.ts";
import type { ReplayBackendName } from "../shared/replay/index.ts";
import { VERSION } from "../shared/version.ts";
import type { AppEnv } from "./context.ts";

/** Whether each replay backend can compare-and-set; mirrors the `atomic` flag each backend declares. */
const REPLAY_ATOMIC: Record<ReplayBackendName, boolean> = {
  "durable-object": true,
  dynamodb: true,
  memory: true,
  kv: false,
};

const STORAGE_BACKEND: Record<Config["runtime"], string> = { workers: "r2", lambda: "s3", node: "s3" };

/** `GET /healthz`: no auth and no secrets; problem codes name variables, never their values. */
export const health = new Hono<AppEnv>().get("/", (c) => {
  const { config } = c.var;
  const healthy = config.problems.length === 0;
  return c.json(
    {
      status: healthy ? "ok" : "misconfigured",
      version: VERSION,
      runtime: config.runtime,
      auth_mode: config.authMode,
      replay_store: { backend: config.replayStore, atomic: REPLAY_ATOMIC[config.replayStore] },
      storage: { backend: STORAGE_BACKEND[config.runtime] },
      presign_storage: config.presignStorage,
      ...(healthy ? {} : { problems: config.problems }),
    },
    healthy ? 200 : 503,
  );
});
