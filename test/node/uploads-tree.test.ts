import { createHash, randomFillSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TREE_FANOUT } from "../../shared/objects/digest-tree.ts";
import { openVerified } from "../../shared/objects/download.ts";
import { readCurrent, type Manifest } from "../../shared/objects/manifest.ts";
import { MemoryMetadataStore } from "../../shared/metadata/memory.ts";
import { MemoryObjectStorage } from "../../shared/storage/memory.ts";
import { nodeStreams } from "../../shared/streams/node.ts";
import { completeUpload } from "../../shared/uploads/complete.ts";
import { createUpload } from "../../shared/uploads/create.ts";
import { MemoryUploadSessionStore } from "../../shared/uploads/memory.ts";
import { uploadPart } from "../../shared/uploads/parts.ts";
import { MemoryLfsLockStore } from "../../shared/lfs/locks-memory.ts";

const CHUNK = 64 * 1024;
const PART = 5 * 1024 * 1024;
/** One chunk more than a manifest holds inline: the smallest object whose digests go to a tree (manifest v2). */
const SIZE = (TREE_FANOUT + 1) * CHUNK - 100;

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

/** A session of `data` on fresh memory backends, its parts sent, completed in slices of `sliceBytes`; its manifest and the calls it took. */
async function sessionUpload(data: Uint8Array<ArrayBuffer>, sliceBytes: number) {
  const deps = {
    storage: new MemoryObjectStorage(),
    metadata: new MemoryMetadataStore(),
    uploads: new MemoryUploadSessionStore(),
    lfsLocks: new MemoryLfsLockStore(),
    log: { log: () => {} },
    clock: () => Date.UTC(2026, 10, 30),
    streams: nodeStreams,
    config: { encryption: { ring: null, readUnsignedLegacy: false } },
  };
  const limits = { chunkSize: CHUNK, uploadPartBytes: PART, maxUploadSessionBytes: 2 * SIZE, uploadSessionSeconds: 3600 };
  const session = await createUpload(
    deps,
    { key: "tree.bin", size: SIZE, sha256: Buffer.from(sha256(data)).toString("hex"), contentType: undefined, keyid: "u" },
    limits,
  );
  for (let part = session.part_count; part >= 1; part--) {
    const bytes = data.slice((part - 1) * PART, part * PART);
    await uploadPart(deps, session, part, { body: new Blob([bytes]).stream(), length: bytes.length, sha256: sha256(bytes) });
  }
  let calls = 0;
  for (let done = false; !done; calls++) {
    done = (await completeUpload(deps, (await deps.uploads.get(session.id))!, { sliceBytes, requestId: "r" })).done;
  }
  return { deps, manifest: (await readCurrent(deps, "tree.bin")) as Manifest, calls };
}

describe("upload session of a manifest v2 object (digest tree) on memory backends", () => {
  it("builds the tree across complete calls, resumed from saved state, as one call builds it; a Range in the middle verifies", async () => {
    const data = randomFillSync(new Uint8Array(SIZE));
    const sliced = await sessionUpload(data, 3 * PART);
    const whole = await sessionUpload(data, 4 * SIZE);
    expect(sliced.calls).toBe(Math.ceil(SIZE / (3 * PART)));
    expect(whole.calls).toBe(1);
    expect(sliced.manifest.chunks).toBeUndefined();
    expect(sliced.manifest.tree?.root).toMatch(/^[0-9a-f]{64}$/);
    expect(sliced.manifest.tree?.root).toBe(whole.manifest.tree?.root);

    const span = { offset: 700 * CHUNK + 5, length: 3 * CHUNK };
    const reader = (await openVerified(sliced.deps, sliced.manifest, { span, requestId: "r" })).getReader();
    const received: Uint8Array[] = [];
    for (let next = await reader.read(); !next.done; next = await reader.read()) received.push(next.value);
    expect(Buffer.compare(Buffer.concat(received), data.subarray(span.offset, span.offset + span.length))).toBe(0);
  });
});
