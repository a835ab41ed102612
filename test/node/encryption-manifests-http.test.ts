import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rewrapDataKey } from "../../shared/crypto/envelope.ts";
import { parseKeyRing } from "../../shared/crypto/key-ring.ts";
import { type StoredManifest, signManifest, verifyManifest } from "../../shared/objects/manifest-signature.ts";
import { blobKeyFor, newVersion } from "../../shared/objects/version.ts";
import { newEd25519Key } from "../support/keys.ts";
import { problemOf } from "../support/problem.ts";
import { RecordingLogger } from "../support/recording-logger.ts";
import { randomBytes, sha256Hex } from "./support/bytes.ts";
import { RUNTIMES } from "./support/runtimes.ts";
import type { GatewayHarness } from "./support/wire.ts";

/**
 * Signed manifests and key rotation over real HTTP on every build (docs/ENCRYPTION.md "Signed manifests", "Rotation";
 * PROTOCOL section 5 "Encryption key rotation"). The harness writes metadata behind the gateway's back as a metadata
 * writer without ENCRYPTION_KEYS would; what it signs itself it signs with keys it holds, as an old deployment did.
 */

const CHUNK = 64 * 1024;
const base64Key = () => Buffer.from(randomBytes(32)).toString("base64");
const OLD = base64Key();
const CURRENT = base64Key();
/** Both keys, the new one current: a deployment in the middle of a rotation. */
const KEYS = `k2=${CURRENT},k1=${OLD}`;
const ring = parseKeyRing(KEYS);
const oldRing = parseKeyRing(`k1=${OLD}`);

let counter = 0;
const uniqueKey = (prefix: string) => `${prefix}/${Date.now().toString(36)}-${counter++}.bin`;

async function put(gateway: GatewayHarness, key: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const response = await gateway.signedFetch("PUT", `/v1/objects/${key}`, { body: bytes });
  expect(response.status).toBe(201);
}

async function stored(gateway: GatewayHarness, recordKey: string): Promise<StoredManifest> {
  const manifest = (await gateway.kv.get(recordKey, "json")) as StoredManifest | null;
  if (!manifest) throw new Error(`no record ${recordKey}`);
  return manifest;
}

async function write(gateway: GatewayHarness, recordKey: string, manifest: StoredManifest): Promise<void> {
  await gateway.kv.put(recordKey, JSON.stringify(manifest));
}

/** A manifest re-signed (and its data key re-wrapped, when encrypted) under `signer`'s current key, as that deployment wrote it. */
async function resign(manifest: StoredManifest, signer: typeof ring): Promise<StoredManifest> {
  const binding = { key: manifest.key, version: manifest.version };
  const encryption = manifest.encryption && (await rewrapDataKey(ring, manifest.encryption, binding, signer.current));
  return signManifest(signer, { ...manifest, ...(encryption ? { encryption } : {}) });
}

/** Both records of the object at `key` re-signed under `signer`: the object as a deployment with that key left it. */
async function underKey(gateway: GatewayHarness, key: string, signer: typeof ring): Promise<void> {
  const manifest = await resign(await stored(gateway, `obj:${key}`), signer);
  await write(gateway, `obj:${key}`, manifest);
  await write(gateway, `ver:${manifest.version}`, manifest);
}

/** An object as a gateway before ENCRYPTION_KEYS wrote it: a plain blob and an unsigned manifest. */
async function legacyObject(gateway: GatewayHarness, key: string, bytes: Uint8Array<ArrayBuffer>): Promise<StoredManifest> {
  const version = newVersion(Date.now() - 60_000);
  const blob = blobKeyFor(version);
  await gateway.bucket.put(blob, bytes);
  const chunks: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) chunks.push(sha256Hex(bytes.subarray(offset, offset + CHUNK)));
  const manifest: StoredManifest = {
    key,
    version,
    size: bytes.length,
    sha256: sha256Hex(bytes),
    chunk_size: CHUNK,
    chunks,
    content_type: "application/octet-stream",
    created_at: new Date(Date.now() - 60_000).toISOString(),
    keyid: "before-encryption",
    blob,
  };
  await write(gateway, `obj:${key}`, manifest);
  await write(gateway, `ver:${version}`, manifest);
  return manifest;
}

async function getBytes(gateway: GatewayHarness, key: string): Promise<Response> {
  return gateway.signedFetch("GET", `/v1/objects/${key}`);
}

async function expectServes(gateway: GatewayHarness, key: string, bytes: Uint8Array): Promise<void> {
  const response = await getBytes(gateway, key);
  expect(response.status).toBe(200);
  expect(sha256Hex(new Uint8Array(await response.arrayBuffer()))).toBe(sha256Hex(bytes));
}

/** The answer to a GET of `key` is `status`/`code`, and the gateway logged `event` with `reason` for that key. */
async function expectRefused(gateway: GatewayHarness, key: string, status: number, code: string, event: string, reason: string): Promise<void> {
  const before = gateway.logs().length;
  const response = await getBytes(gateway, key);
  expect(await problemOf(response)).toEqual({ status, code });
  const line = await gateway.waitForEvent(event, (entry) => entry.request_id === response.headers.get("x-request-id"), before);
  expect(line.reason).toBe(reason);
}

async function health(gateway: GatewayHarness): Promise<Record<string, unknown> & { encryption?: Record<string, unknown>; warnings?: string[] }> {
  return (await (await fetch(`${gateway.origin}/healthz`)).json()) as Record<string, unknown>;
}

async function rewrap(gateway: GatewayHarness, method: "POST" | "GET" = "POST") {
  const init = method === "POST" ? { body: new Uint8Array(Buffer.from("{}")), headers: { "content-type": "application/json" } } : {};
  const response = await gateway.signedFetch(method, "/v1/admin/encryption/rewrap", init);
  expect(response.status).toBe(200);
  return (await response.json()) as {
    state: string;
    scanned: number;
    rewrapped: number;
    signed: number;
    remaining_by_kid: Record<string, number>;
    cursor: string | null;
  };
}

describe.each(RUNTIMES)("signed manifests on %s", (_runtime, start) => {
  let gateway: GatewayHarness;
  let legacyReader: GatewayHarness;

  beforeAll(async () => {
    [gateway, legacyReader] = await Promise.all([
      start({ ENCRYPTION_KEYS: KEYS, CHUNK_SIZE_BYTES: String(CHUNK) }),
      start({ ENCRYPTION_KEYS: KEYS, UNSIGNED_MANIFESTS: "read", CHUNK_SIZE_BYTES: String(CHUNK) }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([gateway?.stop(), legacyReader?.stop()]);
  });

  it("signs every manifest it writes under the current key and serves it, and /healthz names key ids, never keys", async () => {
    const key = uniqueKey("signed");
    const bytes = randomBytes(3 * CHUNK + 5);
    await put(gateway, key, bytes);
    const manifest = await stored(gateway, `obj:${key}`);
    expect(manifest.signature?.kid).toBe("k2");
    expect(await verifyManifest(manifest, { key }, { ring, readUnsignedLegacy: false, log: new RecordingLogger() })).toEqual(manifest);
    expect(await stored(gateway, `ver:${manifest.version}`)).toEqual(manifest);
    await expectServes(gateway, key, bytes);
    const listed = await gateway.signedFetch("GET", `/v1/objects?prefix=${encodeURIComponent(key)}`);
    expect(((await listed.json()) as { objects: { key: string; size: number }[] }).objects).toEqual([expect.objectContaining({ key, size: bytes.length })]);

    const response = await fetch(`${gateway.origin}/healthz`);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ status: "ok", encryption: { current_kid: "k2", kids: ["k2", "k1"] } });
    for (const secret of [OLD, CURRENT, OLD.replace(/=+$/, ""), CURRENT.replace(/=+$/, "")]) expect(text).not.toContain(secret);
  });

  it.each([
    ["content_type", (m: StoredManifest) => ({ ...m, content_type: "text/html" })],
    ["size", (m: StoredManifest) => ({ ...m, size: m.size - 1 })],
    ["created_at", (m: StoredManifest) => ({ ...m, created_at: "2020-01-01T00:00:00.000Z" })],
    ["chunks", (m: StoredManifest) => (m.chunks ? { ...m, chunks: [...m.chunks].reverse() } : { ...m, sha256: "0".repeat(64) })],
  ])("refuses a manifest whose %s a metadata writer altered: 502 integrity_failure, logged, and lists nothing forged", async (_field, alter) => {
    const key = uniqueKey("altered");
    await put(gateway, key, randomBytes(2 * CHUNK + 1));
    await write(gateway, `obj:${key}`, alter(await stored(gateway, `obj:${key}`)));
    await expectRefused(gateway, key, 502, "integrity_failure", "integrity_failure", "manifest_signature_invalid");
    const listed = await gateway.signedFetch("GET", `/v1/objects?prefix=${encodeURIComponent(key)}`);
    expect(await problemOf(listed)).toEqual({ status: 502, code: "integrity_failure" });
  });

  it("refuses two objects' manifests swapped, each genuinely signed", async () => {
    const [a, b] = [uniqueKey("swap-a"), uniqueKey("swap-b")];
    await put(gateway, a, randomBytes(CHUNK));
    await put(gateway, b, randomBytes(CHUNK));
    const [manifestA, manifestB] = [await stored(gateway, `obj:${a}`), await stored(gateway, `obj:${b}`)];
    await write(gateway, `obj:${a}`, manifestB);
    await write(gateway, `obj:${b}`, manifestA);
    await expectRefused(gateway, a, 502, "integrity_failure", "integrity_failure", "manifest_signature_invalid");
    await expectRefused(gateway, b, 502, "integrity_failure", "integrity_failure", "manifest_signature_invalid");
  });

  it("refuses an unsigned legacy manifest without UNSIGNED_MANIFESTS=read, and serves it, logged, with it", async () => {
    const key = uniqueKey("legacy");
    const bytes = randomBytes(2 * CHUNK + 3);
    await legacyObject(gateway, key, bytes);
    await expectRefused(gateway, key, 502, "integrity_failure", "integrity_failure", "manifest_unsigned");

    await legacyObject(legacyReader, key, bytes);
    const before = legacyReader.logs().length;
    await expectServes(legacyReader, key, bytes);
    const line = await legacyReader.waitForEvent("unsigned_manifest_read", (entry) => entry.key === key, before);
    expect(line.level).toBe("warn");
    expect((await health(legacyReader)).warnings).toContain("unsigned_manifests_readable");
    expect((await health(gateway)).warnings ?? []).not.toContain("unsigned_manifests_readable");
  });

  it("answers 503 misconfigured for a manifest signed under a key id the deployment lacks, and for another key under a known id", async () => {
    const [gone, wrong] = [uniqueKey("gone-kid"), uniqueKey("wrong-key")];
    await put(gateway, gone, randomBytes(CHUNK));
    await put(gateway, wrong, randomBytes(CHUNK));
    // Signed only: since PUTs are encrypted, the data key stays wrapped under the deployment's key (resign would need the foreign one).
    await write(gateway, `obj:${gone}`, await signManifest(parseKeyRing(`k0=${base64Key()}`), await stored(gateway, `obj:${gone}`)));
    await write(gateway, `obj:${wrong}`, await signManifest(parseKeyRing(`k1=${base64Key()}`), await stored(gateway, `obj:${wrong}`)));
    await expectRefused(gateway, gone, 503, "misconfigured", "encryption_key_unavailable", "key_unavailable");
    await expectRefused(gateway, wrong, 503, "misconfigured", "encryption_key_unavailable", "key_unavailable");
  });

  it("refuses the rewrap route to a key that is not an admin key, and without a signature", async () => {
    const response = await fetch(`${gateway.origin}/v1/admin/encryption/rewrap`, { method: "POST" });
    expect((await problemOf(response)).status).toBe(401);
    const user = await newEd25519Key();
    const keyid = `reader-${counter++}`;
    const created = await gateway.signedFetch("POST", "/v1/keys", {
      body: new TextEncoder().encode(
        JSON.stringify({ keyid, alg: "ed25519", public_key: user.publicKey, scopes: [{ prefix: "", actions: ["read", "write", "list"] }] }),
      ),
      headers: { "content-type": "application/json" },
    });
    expect(created.status).toBe(201);
    const as = { keyid, key: { alg: "ed25519" as const, privateKey: user.privateKey } };
    for (const method of ["POST", "GET"] as const) {
      const refused = await gateway.signedFetch(method, "/v1/admin/encryption/rewrap", {
        as,
        ...(method === "POST" ? { body: new TextEncoder().encode("{}"), headers: { "content-type": "application/json" } } : {}),
      });
      expect(await problemOf(refused)).toEqual({ status: 403, code: "forbidden" });
    }
    expect(await gateway.kv.get("enc:rewrap")).toBeNull();
  });

  it("rotates: reads keep working during a multi-slice rewrap pass, which re-wraps, re-signs and signs legacy manifests, and /healthz then counts none under the old key", async () => {
    const objects = new Map<string, Uint8Array<ArrayBuffer>>();
    // More than one slice of records (100): each object has its obj: and ver: record.
    for (let i = 0; i < 56; i++) {
      const key = uniqueKey("rotate");
      const bytes = randomBytes(100 + i);
      await put(legacyReader, key, bytes);
      objects.set(key, bytes);
    }
    const oldKeys = [...objects.keys()].slice(0, 6);
    for (const key of oldKeys) await underKey(legacyReader, key, oldRing);
    const legacyKey = uniqueKey("rotate-legacy");
    objects.set(legacyKey, randomBytes(CHUNK + 1));
    await legacyObject(legacyReader, legacyKey, objects.get(legacyKey)!);
    for (const key of oldKeys) expect((await stored(legacyReader, `obj:${key}`)).signature?.kid).toBe("k1");
    await expectServes(legacyReader, oldKeys[0]!, objects.get(oldKeys[0]!)!);

    const first = await rewrap(legacyReader);
    expect(first.state).toBe("running");
    expect(first.scanned).toBe(100);
    expect((await rewrap(legacyReader, "GET")).cursor).toBe(first.cursor);
    // Reads between slices: what was rewritten and what was not yet both serve.
    for (const [key, bytes] of objects) await expectServes(legacyReader, key, bytes);
    let progress = first;
    while (progress.state === "running") progress = await rewrap(legacyReader);
    expect(progress.state).toBe("done");
    expect(progress.remaining_by_kid).toEqual({});
    expect(progress.signed).toBeGreaterThanOrEqual(2);
    expect(progress.rewrapped).toBeGreaterThanOrEqual(2 * oldKeys.length);
    for (const [key, bytes] of objects) await expectServes(legacyReader, key, bytes);

    // The old key is removable: every record now verifies (and opens) under the current key alone.
    const currentOnly = parseKeyRing(`k2=${CURRENT}`);
    for (const key of objects.keys()) {
      const manifest = await stored(legacyReader, `obj:${key}`);
      for (const record of [manifest, await stored(legacyReader, `ver:${manifest.version}`)]) {
        await verifyManifest(record, { key, version: manifest.version }, { ring: currentOnly, readUnsignedLegacy: false, log: new RecordingLogger() });
        expect(record.encryption?.kid ?? "k2").toBe("k2");
      }
    }
    const encryption = (await health(legacyReader)).encryption as { objects_by_kid: Record<string, number>; finished_at: string };
    expect(encryption.objects_by_kid.k1 ?? 0).toBe(0);
    expect(encryption.objects_by_kid.k2).toBeGreaterThanOrEqual(2 * objects.size);
    expect(Date.parse(encryption.finished_at)).not.toBeNaN();
  });
});
