import { describe, expect, it } from "vitest";
import type { MetadataStore } from "../../shared/metadata/index.ts";
import { deleteObject } from "../../shared/objects/delete.ts";
import { listObjects } from "../../shared/objects/list.ts";
import { putResponseBody, readCurrent, type Manifest } from "../../shared/objects/manifest.ts";
import { putObject } from "../../shared/objects/upload.ts";
import { metadataWith } from "../support/store-overrides.ts";
import { backends, bytes, CHUNK, depsFor, requestBody, sha256, type Backend, storedVersion } from "./support/objects-fixtures.ts";

type Deps = ReturnType<typeof depsFor>;

async function upload(deps: Deps, key: string, size: number): Promise<Manifest> {
  const data = bytes(size, size + 1);
  deps.time.now += 1000;
  return putObject(deps, {
    key,
    body: requestBody(data),
    length: size,
    expectedSha256: await sha256(data),
    keyid: "uploader",
    chunkSize: CHUNK,
    maxObjectBytes: CHUNK,
    requestId: "req-catalog",
  });
}

const everything = () => true;

describe.each(backends())("listing and deleting on $name", (backend: Backend) => {
  async function seeded(names: string[]): Promise<{ deps: Deps; root: string; manifests: Manifest[] }> {
    const deps = depsFor(backend);
    const root = `list-${crypto.randomUUID()}/`;
    const manifests: Manifest[] = [];
    for (const [i, name] of names.entries()) manifests.push(await upload(deps, root + name, 10 + i));
    return { deps, root, manifests };
  }

  it("lists the current objects under a prefix in key order with their summary fields", async () => {
    const { deps, root, manifests } = await seeded(["b.txt", "a.txt", "dir/c.txt"]);
    const listed = await listObjects(deps, { prefix: root, allowed: everything });
    const byKey = [...manifests].sort((x, y) => (x.key < y.key ? -1 : 1));
    expect(listed).toEqual({
      objects: byKey.map((m) => ({ key: m.key, size: m.size, sha256: m.sha256, version: m.version, uploaded_at: m.created_at })),
      cursor: null,
    });
    expect((await listObjects(deps, { prefix: `${root}dir/`, allowed: everything })).objects.map((o) => o.key)).toEqual([`${root}dir/c.txt`]);
  });

  it("lists only the latest version of a key that was overwritten", async () => {
    const { deps, root } = await seeded(["x"]);
    const latest = await upload(deps, `${root}x`, 77);
    expect((await listObjects(deps, { prefix: root, allowed: everything })).objects).toEqual([
      { key: latest.key, size: 77, sha256: latest.sha256, version: latest.version, uploaded_at: latest.created_at },
    ]);
  });

  it("pages with limit and cursor through every object exactly once", async () => {
    const names = ["1", "2", "3", "4", "5"];
    const { deps, root } = await seeded(names);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listObjects(deps, { prefix: root, limit: 2, allowed: everything, ...(cursor ? { cursor } : {}) });
      expect(page.objects.length).toBeLessThanOrEqual(2);
      seen.push(...page.objects.map((o) => o.key));
      cursor = page.cursor ?? undefined;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(names.map((name) => root + name));
  });

  it("leaves out keys the caller may not list, without reading their manifests", async () => {
    const { deps, root } = await seeded(["public/a", "secret/b", "public/c"]);
    const read: string[] = [];
    const inner = deps.metadata;
    const metadata = metadataWith(inner, {
      get: <T>(key: string) => {
        read.push(key);
        return inner.get<T>(key);
      },
    });
    const listed = await listObjects({ ...deps, metadata }, { prefix: root, allowed: (key) => key.startsWith(`${root}public/`) });
    expect(listed.objects.map((o) => o.key)).toEqual([`${root}public/a`, `${root}public/c`]);
    expect(read.some((key) => key.includes("secret"))).toBe(false);
  });

  describe("a cursor the store itself refuses (issue #10, finding 10)", () => {
    /** The store of `deps`, failing every list that carries a cursor, and every list at all while `down`. */
    function refusingCursors(inner: MetadataStore, state: { down: boolean }): MetadataStore {
      return metadataWith(inner, {
        list: (prefix, options) => (state.down || options?.cursor !== undefined ? Promise.reject(new Error("store says no")) : inner.list(prefix, options)),
      });
    }

    it("answers bad_request when the store fails on the cursor but answers without it, and keeps a store outage the store's error", async () => {
      const { deps, root } = await seeded(["1", "2"]);
      const first = await listObjects(deps, { prefix: root, limit: 1, allowed: everything });
      const state = { down: false };
      const metadata = refusingCursors(deps.metadata, state);
      const next = { prefix: root, limit: 1, cursor: first.cursor ?? "", allowed: everything };
      await expect(listObjects({ ...deps, metadata }, next)).rejects.toMatchObject({ code: "bad_request" });
      state.down = true;
      await expect(listObjects({ ...deps, metadata }, next)).rejects.toThrow("store says no");
    });
  });

  it.each([0, 1001, 1.5, Number.NaN])("refuses limit %s with bad_request", async (limit) => {
    const deps = depsFor(backend);
    await expect(listObjects(deps, { prefix: "x/", limit, allowed: everything })).rejects.toMatchObject({ code: "bad_request" });
  });

  it("deletes the current manifest, keeps the version readable by id, and answers not_found the second time", async () => {
    const { deps, root, manifests } = await seeded(["gone.txt", "stays.txt"]);
    const [gone, stays] = manifests;
    expect(await deleteObject(deps, `${root}gone.txt`)).toEqual(gone);
    expect(await readCurrent(deps, `${root}gone.txt`)).toBeNull();
    expect(await storedVersion(deps.metadata, gone?.version ?? "")).toEqual(gone);
    expect((await listObjects(deps, { prefix: root, allowed: everything })).objects.map((o) => o.key)).toEqual([stays?.key]);
    await expect(deleteObject(deps, `${root}gone.txt`)).rejects.toMatchObject({ code: "not_found" });
    await expect(deleteObject(deps, `${root}never.txt`)).rejects.toMatchObject({ code: "not_found" });
  });

  it("describes a stored version as the 201 body of PROTOCOL section 3", async () => {
    const { manifests } = await seeded(["body.txt"]);
    const [manifest] = manifests;
    expect(manifest && putResponseBody(manifest)).toEqual({
      key: manifest?.key,
      version: manifest?.version,
      size: 10,
      sha256: manifest?.sha256,
      chunk_size: CHUNK,
      etag: `"${manifest?.sha256}"`,
    });
  });
});
