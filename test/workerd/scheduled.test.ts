import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../functions/workers/worker.ts";
import { runSweep } from "../../functions/sweep.ts";
import { parseConfig } from "../../shared/config/index.ts";
import { KvMetadataStore } from "../../shared/metadata/kv-binding.ts";
import { scheduleGarbage } from "../../shared/objects/garbage.ts";
import { R2ObjectStorage } from "../../shared/storage/r2-binding.ts";
import { MemoryUploadSessionStore } from "../../shared/uploads/memory.ts";
import { RecordingLogger } from "../support/recording-logger.ts";
import { MemoryLfsLockStore } from "../../shared/lfs/locks-memory.ts";

const cron = () => createScheduledController({ scheduledTime: new Date(), cron: "*/15 * * * *" });

/** A blob whose garbage record is due at `dueMs`. */
async function garbageBlob(name: string, dueMs: number): Promise<string> {
  const blob = `blobs/${name}`;
  await env.OBJECTS.put(blob, new Uint8Array([1, 2, 3]));
  await scheduleGarbage(new KvMetadataStore(env.META), dueMs, { key: "k", version: name, blob });
  return blob;
}

describe("the sweep runner every runtime calls (functions/sweep.ts)", () => {
  it("sweeps nothing while misconfigured and logs garbage_sweep_skipped with the problems", async () => {
    const blob = await garbageBlob("due-while-misconfigured", Date.now() - 1_000);
    const log = new RecordingLogger();
    const backends = {
      config: parseConfig({ AUTH_MODE: "sometimes" }, "workers"),
      storage: new R2ObjectStorage(env.OBJECTS),
      metadata: new KvMetadataStore(env.META),
      uploads: new MemoryUploadSessionStore(),
      lfsLocks: new MemoryLfsLockStore(),
      clock: Date.now,
      log,
    };
    await runSweep(backends);
    expect(await env.OBJECTS.head(blob)).not.toBeNull();
    expect(log.events("garbage_sweep_skipped")).toEqual([{ level: "warn", event: "garbage_sweep_skipped", fields: { problems: ["invalid_auth_mode"] } }]);
    expect(log.events("garbage_swept")).toEqual([]);

    await runSweep({ ...backends, config: parseConfig({}, "workers") });
    expect(await env.OBJECTS.head(blob)).toBeNull();
    expect(log.events("garbage_swept")).toHaveLength(1);
  });

  // Regression: the Workers cron skipped a misconfigured gateway silently while Lambda logged the skip.
  it("the Worker's cron handler logs the skip too when misconfigured", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      await worker.scheduled(cron(), { ...env, AUTH_MODE: "sometimes" });
      const lines = warn.mock.calls.map(([line]) => JSON.parse(String(line)) as { event: string; problems: string[] });
      expect(lines.find((line) => line.event === "garbage_sweep_skipped")).toMatchObject({ problems: ["invalid_auth_mode"] });
    } finally {
      warn.mockRestore();
    }
  });
});

it("the Worker's cron handler sweeps blobs whose grace period is over", async () => {
  await env.OBJECTS.put("blobs/abandoned-upload", new Uint8Array([1, 2, 3]));
  await scheduleGarbage(new KvMetadataStore(env.META), Date.now() - 1_000, { key: "k", version: "abandoned-upload", blob: "blobs/abandoned-upload" });
  await env.OBJECTS.put("blobs/not-yet-due", new Uint8Array([4]));
  await scheduleGarbage(new KvMetadataStore(env.META), Date.now() + 3_600_000, { key: "k", version: "not-yet-due", blob: "blobs/not-yet-due" });
  await worker.scheduled(cron(), env);
  expect(await env.OBJECTS.head("blobs/abandoned-upload")).toBeNull();
  expect(await env.OBJECTS.head("blobs/not-yet-due")).not.toBeNull();
});
