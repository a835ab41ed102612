import { describe, expect, it } from "vitest";
import type { KeyRecord } from "../../shared/keys/index.ts";
import { KeyLookupCache, keyLookupCache } from "../../shared/keys/lookup-cache.ts";

const RECORD: KeyRecord = { keyid: "k", alg: "ed25519", public_key: "x", scopes: [], admin: false, status: "active", created_at: "2026-01-01T00:00:00.000Z" };

function countingRead(answer: KeyRecord | null = RECORD) {
  const reads = { count: 0 };
  const read = () => {
    reads.count++;
    return Promise.resolve(answer);
  };
  return { reads, read };
}

describe("KeyLookupCache", () => {
  it("reads once per TTL, then again from the bound on", async () => {
    const cache = new KeyLookupCache(5_000);
    const { reads, read } = countingRead();
    expect(await cache.lookup("k", 1_000, read)).toEqual(RECORD);
    expect(await cache.lookup("k", 5_999, read)).toEqual(RECORD);
    expect(reads.count).toBe(1);
    await cache.lookup("k", 6_000, read);
    expect(reads.count).toBe(2);
  });

  it("shares one read between concurrent lookups of a keyid", async () => {
    const cache = new KeyLookupCache(5_000);
    const { reads, read } = countingRead();
    await Promise.all(Array.from({ length: 10 }, () => cache.lookup("k", 0, read)));
    expect(reads.count).toBe(1);
  });

  it("caches an unknown keyid, and invalidate forgets it", async () => {
    const cache = new KeyLookupCache(5_000);
    const unknown = countingRead(null);
    expect(await cache.lookup("k", 0, unknown.read)).toBeNull();
    expect(await cache.lookup("k", 1, unknown.read)).toBeNull();
    expect(unknown.reads.count).toBe(1);
    cache.invalidate("k");
    const known = countingRead();
    expect(await cache.lookup("k", 2, known.read)).toEqual(RECORD);
  });

  it("never keeps a failed read", async () => {
    const cache = new KeyLookupCache(5_000);
    await expect(cache.lookup("k", 0, () => Promise.reject(new Error("store down")))).rejects.toThrow("store down");
    const { reads, read } = countingRead();
    expect(await cache.lookup("k", 1, read)).toEqual(RECORD);
    expect(reads.count).toBe(1);
  });

  it("reads again when the clock went back before the entry was made", async () => {
    const cache = new KeyLookupCache(5_000);
    const { reads, read } = countingRead();
    await cache.lookup("k", 10_000, read);
    await cache.lookup("k", 9_999, read);
    expect(reads.count).toBe(2);
  });

  it("holds at most maxEntries, dropping the oldest", async () => {
    const cache = new KeyLookupCache(5_000, 3);
    const { reads, read } = countingRead(null);
    for (const keyid of ["a", "b", "c", "d"]) await cache.lookup(keyid, 0, read);
    expect(cache.size).toBe(3);
    await cache.lookup("a", 0, read);
    expect(reads.count).toBe(5);
    await cache.lookup("d", 0, read);
    expect(reads.count).toBe(5);
  });

  it("is one cache per store object", () => {
    const store = {};
    expect(keyLookupCache(store)).toBe(keyLookupCache(store));
    expect(keyLookupCache({})).not.toBe(keyLookupCache(store));
  });
});
