/**
 * What must stop when the run ends early: `wrangler dev` and the AWS bench server run in their own process
 * groups (so they can be stopped as a whole), and a Ctrl-C on `npm run bench` would otherwise orphan them.
 */
const pending = new Set<() => Promise<void>>();

/** Registers `stop`; the returned function runs it once and unregisters it. */
export function onInterrupt(stop: () => Promise<void>): () => Promise<void> {
  pending.add(stop);
  return async () => {
    if (!pending.delete(stop)) return;
    await stop();
  };
}

export function stopEverythingOnSignals(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`[bench] ${signal}: stopping the servers it started`);
      void Promise.allSettled([...pending].map((stop) => stop())).then(() => process.exit(130));
    });
  }
}
