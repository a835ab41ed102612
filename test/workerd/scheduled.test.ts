import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import worker from "../../functions/workers/worker.ts";
import { KvMetadataStore } from "../../shared/metadata/kv-binding.ts";
import { scheduleGarbage } from "../../shared/objects/garbage.ts";

it("the Worker's cron handler sweeps blobs whose grace period is over", async () => {
  await env.OBJECTS.put("blobs/abandoned-upload", new Uint8Array([1, 2, 3]));
  await scheduleGarbage(new KvMetadataStore(env.META), Date.now() - 1_000, { key: "k", version: "abandoned-upload", blob: "blobs/abandoned-upload" });
  await env.OBJECTS.put("blobs/not-yet-due", new Uint8Array([4]));
  await scheduleGarbage(new KvMetadataStore(env.META), Date.now() + 3_600_000, { key: "k", version: "not-yet-due", blob: "blobs/not-yet-due" });
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/15 * * * *" }), env);
  expect(await env.OBJECTS.head("blobs/abandoned-upload")).toBeNull();
  expect(await env.OBJECTS.head("blobs/not-yet-due")).not.toBeNull();
});
