import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/crypto/encoding.ts";
import type { ReplayBackendName, ReplayStore } from "../../shared/replay/index.ts";

/** What a backend declares about itself; declared up front so the concurrency case is chosen when tests are collected. */
export interface ReplayStoreCapabilities {
  backend: ReplayBackendName;
  atomic: boolean;
}

const CONCURRENT_CLAIMS = 200;
const WINDOW_SECONDS = 300;

/** A fresh sha256-shaped id per call, so cases never see each other's claims even in shared storage. */
export function randomClaimId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The behaviour every `ReplayStore` backend must show; each backend's test file calls this once. */
export function describeReplayStoreContract(name: string, make: () => ReplayStore | Promise<ReplayStore>, capabilities: ReplayStoreCapabilities): void {
  describe(`ReplayStore contract: ${name}`, () => {
    const now = Math.floor(Date.now() / 1000);
    const window = { nowSeconds: now, expiresAtSeconds: now + WINDOW_SECONDS };

    it(`reports backend "${capabilities.backend}" and atomic ${capabilities.atomic}`, async () => {
      const store = await make();
      expect(store.backend).toBe(capabilities.backend);
      expect(store.atomic).toBe(capabilities.atomic);
    });

    it("the first claim of an id succeeds and a second is refused", async () => {
      const store = await make();
      const id = randomClaimId();
      expect(await store.claim(id, window)).toBe(true);
      expect(await store.claim(id, window)).toBe(false);
    });

    it("claims of different ids are independent", async () => {
      const store = await make();
      const a = randomClaimId();
      const b = randomClaimId();
      expect(await store.claim(a, window)).toBe(true);
      expect(await store.claim(b, window)).toBe(true);
      expect(await store.claim(a, window)).toBe(false);
      expect(await store.claim(b, window)).toBe(false);
    });

    it("a claim still holds at its expiry second", async () => {
      const store = await make();
      const id = randomClaimId();
      expect(await store.claim(id, window)).toBe(true);
      const atExpiry = window.expiresAtSeconds;
      expect(await store.claim(id, { nowSeconds: atExpiry, expiresAtSeconds: atExpiry + WINDOW_SECONDS })).toBe(false);
    });

    it("an expired claim can be claimed again, and then holds for its new window", async () => {
      const store = await make();
      const id = randomClaimId();
      expect(await store.claim(id, window)).toBe(true);
      const later = window.expiresAtSeconds + 1;
      const next = { nowSeconds: later, expiresAtSeconds: later + WINDOW_SECONDS };
      expect(await store.claim(id, next)).toBe(true);
      expect(await store.claim(id, next)).toBe(false);
    });

    const concurrent = `${CONCURRENT_CLAIMS} concurrent claims of one id: exactly one succeeds`;
    if (capabilities.atomic) {
      it(concurrent, async () => {
        const store = await make();
        const id = randomClaimId();
        const results = await Promise.all(Array.from({ length: CONCURRENT_CLAIMS }, () => store.claim(id, window)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    } else {
      it(`${CONCURRENT_CLAIMS} concurrent claims of one id: at least one succeeds and the id stays claimed (${capabilities.backend} is not atomic: several may succeed)`, async () => {
        const store = await make();
        const id = randomClaimId();
        const results = await Promise.all(Array.from({ length: CONCURRENT_CLAIMS }, () => store.claim(id, window)));
        expect(results.filter(Boolean).length).toBeGreaterThan(0);
        expect(await store.claim(id, window)).toBe(false);
      });
    }
  });
}
