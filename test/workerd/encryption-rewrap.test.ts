import { describe, expect, it } from "vitest";
import { runSweep } from "../../functions/sweep.ts";
import { parseConfig } from "../../shared/config/index.ts";
import { parseKeyRing } from "../../shared/crypto/key-ring.ts";
import type { MetadataStore, SwapCondition, SwapResult } from "../../shared/metadata/index.ts";
import { MemoryMetadataStore } from "../../shared/metadata/memory.ts";
import type { ObjectDeps } from "../../shared/objects/deps.ts";
import { deleteObject } from "../../shared/objects/delete.ts";
import { currentKey, readCurrent, versionKey } from "../../shared/objects/manifest.ts";
import { type StoredManifest, verifyManifest } from "../../shared/objects/manifest-signature.ts";
import { readRewrapState, REWRAP_STATE_KEY, rewrapSlice } from "../../shared/objects/rewrap.ts";
import { MemoryObjectStorage } from "../../shared/storage/memory.ts";
import { workerdStreams } from "../../shared/streams/workerd.ts";
import { MemoryUploadSessionStore } from "../../shared/uploads/memory.ts";
import { RecordingLogger } from "../support/recording-logger.ts";
import { metadataWith } from "../support/store-overrides.ts";
import { bytes, putBytes } from "./support/objects-fixtures.ts";

const key32 = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const OLD = key32();
const CURRENT = key32();

function depsWith(keys: string, metadata: MetadataStore, storage = new MemoryObjectStorage()): ObjectDeps & { log: RecordingLogger } {
  return {
    storage,
    metadata,
    log: new RecordingLogger(),
    clock: Date.now,
    streams: workerdStreams,
    config: { encryption: { ring: parseKeyRing(keys), readUnsignedLegacy: false } },
  };
}

/** `count` objects written by a deployment whose current key was k1, read back by one that rotated to k2. */
async function writtenUnderOldKey(count: number) {
  const metadata = new MemoryMetadataStore();
  const before = depsWith(`k1=${OLD}`, metadata);
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `rotate/${i}`;
    await putBytes(before, key, bytes(100 + i, i + 1));
    keys.push(key);
  }
  return { keys, metadata, after: depsWith(`k2=${CURRENT},k1=${OLD}`, metadata, before.storage as MemoryObjectStorage) };
}

/** `inner` with its swaps going through `swap` first: a crash or a concurrent writer at that moment. */
function withSwap(
  inner: MetadataStore,
  swap: (key: string, next: object | null, condition: SwapCondition, tagField: string) => Promise<SwapResult<object>>,
): MetadataStore {
  return metadataWith(inner, {
    swap: <T extends object>(key: string, next: T | null, condition: SwapCondition, tagField: string) =>
      swap(key, next, condition, tagField) as Promise<SwapResult<T>>,
  });
}

async function expectAllUnderCurrent(metadata: MetadataStore, keys: string[]): Promise<void> {
  const currentOnly = { ring: parseKeyRing(`k2=${CURRENT}`), readUnsignedLegacy: false, log: new RecordingLogger() };
  for (const key of keys) {
    const manifest = (await metadata.get<StoredManifest>(currentKey(key)))!;
    const version = (await metadata.get<StoredManifest>(versionKey(manifest.version)))!;
    for (const record of [manifest, version]) {
      await verifyManifest(record, { key, version: manifest.version }, currentOnly);
      expect(record.signature?.kid).toBe("k2");
    }
  }
}

describe("ENCRYPTION_KEYS and UNSIGNED_MANIFESTS in the configuration", () => {
  it.each([
    ["k1", "encryption_keys_entry_malformed"],
    ["=abc", "encryption_keys_key_id_invalid"],
    ["bad id=" + OLD, "encryption_keys_key_id_invalid"],
    [`k1=${OLD},k1=${CURRENT}`, "encryption_keys_key_id_duplicate"],
    ["k1=not*base64", "encryption_keys_key_not_base64"],
    ["k1=" + btoa("too short"), "encryption_keys_key_length"],
    [`k1=${OLD},,k2=${CURRENT}`, "encryption_keys_entry_malformed"],
  ])("refuses ENCRYPTION_KEYS=%j with %s, and never shows the value", (value, problem) => {
    const config = parseConfig({ ENCRYPTION_KEYS: value }, "workers");
    expect(config.problems).toEqual([problem]);
    expect(config.encryption.ring).toBeNull();
    expect(JSON.stringify(config.problems)).not.toContain(OLD.slice(0, 20));
  });

  it("parses the ring current first, and warns while unsigned manifests are readable", () => {
    const config = parseConfig({ ENCRYPTION_KEYS: ` k2=${CURRENT} , k1=${OLD.replace(/=+$/, "")}`, UNSIGNED_MANIFESTS: "read" }, "workers");
    expect(config.problems).toEqual([]);
    expect(config.encryption.ring?.ids).toEqual(["k2", "k1"]);
    expect(config.warnings).toContain("unsigned_manifests_readable");
    expect(parseConfig({ UNSIGNED_MANIFESTS: "read" }, "workers").warnings).not.toContain("unsigned_manifests_readable");
    expect(parseConfig({ ENCRYPTION_KEYS: `k2=${CURRENT}`, UNSIGNED_MANIFESTS: "refuse" }, "workers").warnings).not.toContain("unsigned_manifests_readable");
    expect(parseConfig({ UNSIGNED_MANIFESTS: "yes" }, "workers").problems).toEqual(["invalid_unsigned_manifests"]);
  });
});

describe("the rewrap pass", () => {
  it("resumes after a slice that died before saving its state, and ends with every record under the current key", async () => {
    const { keys, metadata, after } = await writtenUnderOldKey(5);
    let failSave = true;
    const crashing = withSwap(metadata, (key, next, condition, tagField) => {
      if (key === REWRAP_STATE_KEY && failSave) {
        failSave = false;
        return Promise.reject(new Error("the isolate died"));
      }
      return metadata.swap(key, next, condition, tagField);
    });
    await expect(rewrapSlice({ ...after, metadata: crashing }, { start: true, requestId: "r", sliceManifests: 3 })).rejects.toThrow("the isolate died");
    expect(await readRewrapState(after)).toBeNull();
    // Reads work between slices: some records are under k2 already, the rest still under k1.
    for (const key of keys) expect(await readCurrent(after, key)).not.toBeNull();

    let state = await rewrapSlice(after, { start: true, requestId: "r", sliceManifests: 3 });
    expect(state?.state).toBe("running");
    while (state?.state === "running") state = await rewrapSlice(after, { start: true, requestId: "r", sliceManifests: 3 });
    expect(state).toMatchObject({ state: "done", scanned: 10, failed: 0, by_kid: { k2: 10 } });
    expect(state?.last_completed?.objects_by_kid).toEqual({ k2: 10 });
    await expectAllUnderCurrent(metadata, keys);
  });

  it.each([
    ["other bytes", 7],
    ["the same bytes", 0],
  ])("lets an upload of %s that lands during the rewrite of a record win", async (_name, seed) => {
    const { keys, metadata, after } = await writtenUnderOldKey(2);
    const key = keys[0]!;
    const oldVersion = (await readCurrent(after, key))!.version;
    const overwrite = seed === 0 ? bytes(100, 1) : bytes(300, seed);
    let newVersion = "";
    const racing = withSwap(metadata, async (recordKey, next, condition, tagField) => {
      if (recordKey === currentKey(key) && newVersion === "" && (next as StoredManifest | null)?.version === oldVersion) {
        newVersion = (await putBytes(after, key, overwrite)).version;
      }
      return metadata.swap(recordKey, next, condition, tagField);
    });
    let state = await rewrapSlice({ ...after, metadata: racing }, { start: true, requestId: "r" });
    while (state?.state === "running") state = await rewrapSlice(after, { start: true, requestId: "r" });
    expect(newVersion).not.toBe("");
    const current = (await readCurrent(after, key))!;
    expect(current.version).toBe(newVersion);
    expect(current.size).toBe(overwrite.length);
  });

  it("lets a delete that lands during the rewrite of a record win: the object stays deleted", async () => {
    const { keys, metadata, after } = await writtenUnderOldKey(2);
    const key = keys[0]!;
    let deleted = false;
    const racing = withSwap(metadata, async (recordKey, next, condition, tagField) => {
      if (recordKey === currentKey(key) && !deleted && (next as StoredManifest | null)?.signature?.kid === "k2") {
        deleted = true;
        await deleteObject(after, key);
      }
      return metadata.swap(recordKey, next, condition, tagField);
    });
    let state = await rewrapSlice({ ...after, metadata: racing }, { start: true, requestId: "r" });
    while (state?.state === "running") state = await rewrapSlice(after, { start: true, requestId: "r" });
    expect(deleted).toBe(true);
    expect(await readCurrent(after, key)).toBeNull();
  });

  it("never launders a forged or unsigned manifest: leaves it as it is, counts it failed and logs it", async () => {
    const { keys, metadata, after } = await writtenUnderOldKey(3);
    const forged = { ...(await metadata.get<StoredManifest>(currentKey(keys[0]!)))!, content_type: "text/html" };
    await metadata.put(currentKey(keys[0]!), forged);
    const { signature: _dropped, ...unsigned } = (await metadata.get<StoredManifest>(currentKey(keys[1]!)))!;
    await metadata.put(currentKey(keys[1]!), unsigned);
    let state = await rewrapSlice(after, { start: true, requestId: "r" });
    while (state?.state === "running") state = await rewrapSlice(after, { start: true, requestId: "r" });
    expect(state).toMatchObject({ state: "done", failed: 2, unsigned: 1 });
    expect(await metadata.get(currentKey(keys[0]!))).toEqual(forged);
    expect(await metadata.get(currentKey(keys[1]!))).toEqual(unsigned);
    expect(after.log.events("rewrap_manifest_refused").map((entry) => entry.fields.reason)).toEqual(["manifest_signature_invalid", "manifest_unsigned"]);
    await expect(readCurrent(after, keys[0]!)).rejects.toMatchObject({ code: "integrity_failure" });
  });

  it("is advanced by the scheduled sweep once started, and never started by it", async () => {
    const { metadata, after } = await writtenUnderOldKey(3);
    const backends = {
      ...after,
      uploads: new MemoryUploadSessionStore(),
      config: parseConfig({ ENCRYPTION_KEYS: `k2=${CURRENT},k1=${OLD}` }, "workers"),
    };
    await runSweep(backends);
    expect(await readRewrapState(after)).toBeNull();
    await rewrapSlice(after, { start: true, requestId: "r", sliceManifests: 1 });
    const before = (await readRewrapState(after))!;
    await runSweep(backends);
    const swept = (await metadata.get<{ scanned: number; state: string }>(REWRAP_STATE_KEY))!;
    expect(swept.scanned).toBeGreaterThan(before.scanned);
    expect(swept.state).toBe("done");
  });
});
