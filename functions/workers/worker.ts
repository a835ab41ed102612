import { sweepGarbage } from "../../shared/objects/garbage.ts";
import { createApp } from "../app.ts";
import { backendsFor } from "./backends.ts";

export { CommitShard } from "../../shared/metadata/durable-object.ts";
export { ReplayShard } from "../../shared/replay/durable-object.ts";

const app = createApp((c) => backendsFor(c.env as Env));

export default {
  fetch: app.fetch,
  async scheduled(_controller, env) {
    const backends = backendsFor(env);
    if (backends.config.problems.length > 0) return;
    const result = await sweepGarbage(backends, backends.clock());
    backends.log.log("info", "garbage_swept", { ...result });
  },
} satisfies ExportedHandler<Env>;
