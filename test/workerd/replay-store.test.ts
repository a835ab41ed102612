import { env } from "cloudflare:workers";
import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { replayClaimId } from "../../shared/replay/claim-id.ts";
import { DurableObjectReplayStore, REPLAY_SHARD_COUNT, type ReplayShard } from "../../shared/replay/durable-object.ts";
import { KvReplayStore } from "../../shared/replay/kv-binding.ts";
import { MemoryReplayStore } from "../../shared/replay/memory.ts";
import { sha256Hex } from "../../shared/crypto/encoding.ts";
import { describeReplayStoreContract, randomClaimId } from "../contracts/replay-store.ts";

/** The bindings of wrangler.toml this file uses; typed here because generated Env types may not exist yet. */
const bindings = env as unknown as { META: KVNamespace; REPLAY: DurableObjectNamespace<ReplayShard> };

describeReplayStoreContract("memory", () => new MemoryReplayStore(), { backend: "memory", atomic: true });
describeReplayStoreContract("kv binding", () => new KvReplayStore(bindings.META), { backend: "kv", atomic: false });
describeReplayStoreContract("durable object", () => new DurableObjectReplayStore(bindings.REPLAY), {
  backend: "durable-object",
  atomic: true,
});

describe("replayClaimId", () => {
  it("is the sha256 hex of keyid, newline, nonce", async () => {
    expect(await replayClaimId("ops-laptop", "q3VzZXJub25jZTEyMzQ1Ng")).toBe(await sha256Hex("ops-laptop\nq3VzZXJub25jZTEyMzQ1Ng"));
    expect(await replayClaimId("ops-laptop", "q3VzZXJub25jZTEyMzQ1Ng")).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("KvReplayStore", () => {
  it("stores the claim's expiry under the replay: prefix", async () => {
    const id = randomClaimId();
    const now = Math.floor(Date.now() / 1000);
    await new KvReplayStore(bindings.META).claim(id, { nowSeconds: now, expiresAtSeconds: now + 300 });
    expect(await bindings.META.get(`replay:${id}`)).toBe(String(now + 300));
  });

  it("accepts a window shorter than KV's minimum TTL", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(new KvReplayStore(bindings.META).claim(randomClaimId(), { nowSeconds: now, expiresAtSeconds: now + 5 })).resolves.toBe(true);
  });
});

describe("DurableObjectReplayStore", () => {
  it("the alarm purges expired rows and re-arms while live rows remain", async () => {
    const stub = bindings.REPLAY.get(bindings.REPLAY.newUniqueId());
    const now = Math.floor(Date.now() / 1000);
    const expired = randomClaimId();
    const live = randomClaimId();
    expect(await stub.claim(expired, now - 600, now - 300)).toBe(true);
    expect(await stub.claim(live, now, now + 300)).toBe(true);

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const after = await runInDurableObject(stub, async (_instance, state) => ({
      ids: state.storage.sql
        .exec<{ id: string }>("SELECT id FROM claims")
        .toArray()
        .map((row) => row.id),
      alarm: await state.storage.getAlarm(),
    }));
    expect(after.ids).toEqual([live]);
    expect(after.alarm).not.toBeNull();
  });

  it("the alarm stops re-arming once the table is empty, and the next claim arms it again", async () => {
    const stub = bindings.REPLAY.get(bindings.REPLAY.newUniqueId());
    const now = Math.floor(Date.now() / 1000);
    expect(await stub.claim(randomClaimId(), now - 600, now - 300)).toBe(true);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const emptied = await runInDurableObject(stub, async (_instance, state) => ({
      rows: state.storage.sql.exec("SELECT id FROM claims").toArray().length,
      alarm: await state.storage.getAlarm(),
    }));
    expect(emptied).toEqual({ rows: 0, alarm: null });

    expect(await stub.claim(randomClaimId(), now, now + 300)).toBe(true);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("spreads claims over several shards", async () => {
    const store = new DurableObjectReplayStore(bindings.REPLAY);
    const now = Math.floor(Date.now() / 1000);
    const claims = Array.from({ length: 200 }, () => store.claim(randomClaimId(), { nowSeconds: now, expiresAtSeconds: now + 300 }));
    expect((await Promise.all(claims)).every(Boolean)).toBe(true);

    const ids = await listDurableObjectIds(bindings.REPLAY);
    const shardIds = new Set(Array.from({ length: REPLAY_SHARD_COUNT }, (_, n) => bindings.REPLAY.idFromName(`replay-shard-${n}`).toString()));
    const used = ids.filter((id) => shardIds.has(id.toString()));
    expect(used.length).toBeGreaterThan(1);
  });

  it("sends an id to the shard named by its leading hex digits", async () => {
    const names: string[] = [];
    const store = new DurableObjectReplayStore(
      {
        idFromName: (name: string) => name,
        get: (name: string) => ({
          claim: () => {
            names.push(name);
            return Promise.resolve(true);
          },
        }),
      },
      REPLAY_SHARD_COUNT,
    );
    const window = { nowSeconds: 0, expiresAtSeconds: 300 };
    await store.claim(`00000041${"0".repeat(56)}`, window);
    await store.claim(`ffffffff${"0".repeat(56)}`, window);
    expect(names).toEqual([`replay-shard-${0x41 % REPLAY_SHARD_COUNT}`, `replay-shard-${0xffffffff % REPLAY_SHARD_COUNT}`]);
  });

  it("rejects when the shard cannot be reached, so the caller fails closed", async () => {
    const outage = new Error("Durable Object is overloaded");
    const store = new DurableObjectReplayStore({
      idFromName: (name: string) => name,
      get: () => ({ claim: () => Promise.reject(outage) }),
    });
    const now = Math.floor(Date.now() / 1000);
    await expect(store.claim(randomClaimId(), { nowSeconds: now, expiresAtSeconds: now + 300 })).rejects.toBe(outage);
  });

  it("refuses an id that is not a sha256 hex digest instead of picking a shard from it", async () => {
    const store = new DurableObjectReplayStore(bindings.REPLAY);
    await expect(store.claim("not-a-digest", { nowSeconds: 0, expiresAtSeconds: 300 })).rejects.toMatchObject({ code: "internal" });
  });
});
