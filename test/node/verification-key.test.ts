import { describe, expect, it } from "vitest";
import { toBase64Url, utf8 } from "../../shared/crypto/encoding.ts";
import type { KeyRecord } from "../../shared/keys/index.ts";
import { verificationKeyOf } from "../../shared/keys/verification-key.ts";
import { verifySignature } from "../../shared/signature/index.ts";
import { newEd25519Key } from "../support/keys.ts";

/** The imported Ed25519 key kept per key record (issue 13): reused for its record only, never for another. */
const BASE = '"@method": GET\n"@signature-params": ()';

function recordOf(keyid: string, publicKey: string): KeyRecord {
  return { keyid, alg: "ed25519", public_key: publicKey, scopes: [], admin: false, status: "active", created_at: "2026-01-01T00:00:00.000Z" };
}

async function signedBase(privateKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, utf8(BASE)));
}

describe("verificationKeyOf", () => {
  it("imports a record's key once and reuses it for that record", async () => {
    const { publicKey } = await newEd25519Key();
    const record = recordOf("a", publicKey);
    const first = await verificationKeyOf(record);
    const second = await verificationKeyOf(record);
    expect(first.alg === "ed25519" && first.publicKey).toBeInstanceOf(CryptoKey);
    expect(second.alg === "ed25519" && second.publicKey).toBe(first.alg === "ed25519" && first.publicKey);
  });

  it("verifies each record's signatures with that record's key only", async () => {
    const a = await newEd25519Key();
    const b = await newEd25519Key();
    const recordA = recordOf("a", a.publicKey);
    const recordB = recordOf("b", b.publicKey);
    const byA = await signedBase(a.privateKey);
    expect(await verifySignature(BASE, byA, await verificationKeyOf(recordA))).toBe(true);
    expect(await verifySignature(BASE, byA, await verificationKeyOf(recordB))).toBe(false);
    // A record read again (the lookup cache's next entry) for the same keyid is imported from its own bytes.
    expect(await verifySignature(BASE, byA, await verificationKeyOf(recordOf("a", b.publicKey)))).toBe(false);
  });

  it("refuses, rather than failing, a stored public key that is not 32 bytes", async () => {
    const { privateKey } = await newEd25519Key();
    const record = recordOf("short", toBase64Url(new Uint8Array(31)));
    expect(await verifySignature(BASE, await signedBase(privateKey), await verificationKeyOf(record))).toBe(false);
  });

  it("gives an HMAC record its secret", async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const record: KeyRecord = { ...recordOf("h", ""), alg: "hmac-sha256", secret: toBase64Url(secret) };
    delete record.public_key;
    expect(await verificationKeyOf(record)).toEqual({ alg: "hmac-sha256", secret });
  });
});
