import { createApp } from "../app.ts";
import { runSweep } from "../sweep.ts";
import { backendsFor } from "./backends.ts";

export { CommitShard } from "../../shared/metadata/durable-object.ts";
export { ReplayShard } from "../../shared/replay/durable-object.ts";
export { UploadSessions } from "../../shared/uploads/durable-object.ts";
export { LfsLocks } from "../../shared/lfs/locks-durable-object.ts";

const app = createApp((c) => backendsFor(c.env as Env));

export default {
  fetch: app.fetch,
  scheduled: (_controller, env) => runSweep(backendsFor(env)),
} satisfies ExportedHandler<Env>;
