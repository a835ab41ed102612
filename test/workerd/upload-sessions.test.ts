import { env } from "cloudflare:workers";
import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DurableObjectUploadSessionStore, type UploadSessions } from "../../shared/uploads/durable-object.ts";
import { MemoryUploadSessionStore } from "../../shared/uploads/memory.ts";
import { describeUploadSessionStoreContract, newSession, partOf } from "../contracts/upload-sessions.ts";

/** The binding of wrangler.toml this file uses; typed here because generated Env types may not exist yet. */
const bindings = env as unknown as { UPLOADS: DurableObjectNamespace<UploadSessions> };

describeUploadSessionStoreContract("memory", () => new MemoryUploadSessionStore(), { backend: "memory" });
describeUploadSessionStoreContract("durable object", () => new DurableObjectUploadSessionStore(bindings.UPLOADS), {
  backend: "durable-object",
  fillParts: {
    how: "inside the object, one putPart each without the RPC",
    fill: (id, parts) =>
      runInDurableObject(bindings.UPLOADS.get(bindings.UPLOADS.idFromName(id)), (instance) => {
        for (const part of parts) expect(instance.putPart(part)).toBe(true);
      }),
  },
});

describe("DurableObjectUploadSessionStore", () => {
  it("keeps each session in the object named by its id", async () => {
    const store = new DurableObjectUploadSessionStore(bindings.UPLOADS);
    const session = newSession();
    await store.create(session);
    await store.putPart(session.id, partOf(1));
    const stored = await runInDurableObject(bindings.UPLOADS.get(bindings.UPLOADS.idFromName(session.id)), (_instance, state) => ({
      session: state.storage.sql.exec<{ id: string; rev: number }>("SELECT id, rev FROM session").toArray(),
      parts: state.storage.sql.exec<{ part: number }>("SELECT part FROM parts").toArray(),
    }));
    expect(stored).toEqual({ session: [{ id: session.id, rev: 1 }], parts: [{ part: 1 }] });
  });

  it("leaves no storage behind a read of an unknown id or a delete", async () => {
    const store = new DurableObjectUploadSessionStore(bindings.UPLOADS);
    const unknown = newSession();
    expect(await store.get(unknown.id)).toBeNull();
    const deleted = newSession();
    await store.create(deleted);
    await store.putPart(deleted.id, partOf(1));
    await store.delete(deleted.id);
    for (const id of [unknown.id, deleted.id]) {
      const tables = await runInDurableObject(bindings.UPLOADS.get(bindings.UPLOADS.idFromName(id)), (_instance, state) =>
        state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray(),
      );
      expect(tables, id).toEqual([]);
    }
    expect((await listDurableObjectIds(bindings.UPLOADS)).length).toBeGreaterThan(0);
  });
});
