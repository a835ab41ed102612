import { Hono } from "hono";
import type { KeyRing } from "../../shared/crypto/key-ring.ts";
import { readRewrapState } from "../../shared/objects/rewrap.ts";
import { VERSION } from "../../shared/version.ts";
import type { AppEnv } from "../context.ts";

/**
 * `GET /healthz`: no auth and no secrets; problem and warning codes (shared/config/problems.ts) name variables,
 * never their values. A warning is a setting only some routes need: they answer 503 while `status` stays ok.
 * The replay store and storage describe themselves (`backend`, `atomic`): what is reported is what serves.
 * `max_object_bytes` lets a client refuse an upload the gateway would refuse before sending its body.
 */
export const health = new Hono<AppEnv>().get("/", async (c) => {
  const { config, replay, storage } = c.var;
  const healthy = config.problems.length === 0;
  // Key ids only: the bytes of ENCRYPTION_KEYS never leave the configuration.
  const { ring } = config.encryption;
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
      ...(config.warnings.length === 0 ? {} : { warnings: config.warnings }),
      ...(ring === null || !healthy ? {} : { encryption: await encryptionHealth(c.var, ring) }),
    },
    healthy ? 200 : 503,
  );
});

/**
 * Key ids and what each still protects, from the last completed rewrap pass (one metadata read, never a scan); null
 * counts until a pass completed. Never key bytes.
 */
async function encryptionHealth(vars: AppEnv["Variables"], ring: KeyRing) {
  const last = (await readRewrapState(vars))?.last_completed ?? null;
  return {
    current_kid: ring.current,
    kids: ring.ids,
    objects_by_kid: last?.objects_by_kid ?? null,
    unsigned: last?.unsigned ?? null,
    started_at: last?.started_at ?? null,
    finished_at: last?.finished_at ?? null,
  };
}
