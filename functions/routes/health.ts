import { Hono } from "hono";
import type { Config } from "../../shared/config/index.ts";
import { VERSION } from "../../shared/version.ts";
import type { AppEnv } from "../context.ts";

/**
 * Settings only some routes need: without them those routes answer 503 `misconfigured` while the rest serve,
 * so they are warnings here (names, never values) and `status` stays ok.
 */
function warningsOf(config: Readonly<Config>): string[] {
  // A secret that is too short is already a problem, not a missing one.
  const presignSecretMissing = config.presignSecret === undefined && !config.problems.includes("presign_secret_too_short");
  return presignSecretMissing ? ["presign_secret_missing"] : [];
}

/**
 * `GET /healthz`: no auth and no secrets; problem and warning codes name variables, never their values.
 * The replay store and storage describe themselves (`backend`, `atomic`): what is reported is what serves.
 * `max_object_bytes` lets a client refuse an upload the gateway would refuse before sending its body.
 */
export const health = new Hono<AppEnv>().get("/", (c) => {
  const { config, replay, storage } = c.var;
  const healthy = config.problems.length === 0;
  const warnings = warningsOf(config);
  return c.json(
    {
      status: healthy ? "ok" : "misconfigured",
      version: VERSION,
      runtime: config.runtime,
      auth_mode: config.authMode,
      replay_store: { backend: replay.backend, atomic: replay.atomic },
      storage: { backend: storage.backend },
      presign_storage: config.presignStorage,
      max_object_bytes: config.maxObjectBytes,
      ...(healthy ? {} : { problems: config.problems }),
      ...(warnings.length === 0 ? {} : { warnings }),
    },
    healthy ? 200 : 503,
  );
});
