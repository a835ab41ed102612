import { sweepGarbage } from "../shared/objects/garbage.ts";
import { rewrapProgress, rewrapSlice } from "../shared/objects/rewrap.ts";
import { sweepUploadSessions } from "../shared/uploads/sweep.ts";
import type { Backends } from "./context.ts";

/** The sweep's period on every runtime: wrangler.toml's cron trigger and deploy/template.yaml's schedule run at it too. */
export const SWEEP_PERIOD_MS = 15 * 60 * 1000;

type SweepBackends = Pick<Backends, "config" | "storage" | "metadata" | "uploads" | "clock" | "log">;

/**
 * One garbage sweep (superseded blobs and tombstones, then expired upload sessions), as the Workers cron trigger, the Lambda `sweep` function and the Node server's timer all run
 * it. A misconfigured gateway serves nothing and its bucket or table may be someone else's, so it sweeps nothing
 * either and says so in the log. A failed run rejects: on Workers and Lambda that fails the invocation.
 */
export async function runSweep(backends: SweepBackends): Promise<void> {
  const { config, log } = backends;
  if (config.problems.length > 0) {
    log.log("warn", "garbage_sweep_skipped", { problems: config.problems });
    return;
  }
  const nowMs = backends.clock();
  const result = await sweepGarbage(backends, nowMs);
  log.log("info", "garbage_swept", { ...result });
  const sessions = await sweepUploadSessions(backends, nowMs);
  log.log("info", "upload_sessions_swept", { ...sessions });
  // A rewrap pass an operator started keeps moving even when nobody calls the route again.
  if (config.encryption.ring !== null) {
    const rewrap = await rewrapSlice(backends, { start: false, requestId: "sweep" });
    if (rewrap !== null) log.log("info", "rewrap_swept", { ...rewrapProgress(rewrap) });
  }
}

/**
 * Runs the sweep every `periodMs` in a long-lived process (the Node server), which has no scheduler of its own.
 * A failed run is logged, as nothing else would report it, and the next one runs on time. Returns the stop.
 */
export function sweepPeriodically(backends: SweepBackends, periodMs = SWEEP_PERIOD_MS): () => void {
  const timer = setInterval(() => {
    runSweep(backends).catch((error: unknown) => backends.log.log("error", "garbage_sweep_failed", { error_message: String(error) }));
  }, periodMs);
  return () => clearInterval(timer);
}
