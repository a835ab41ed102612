import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/crypto/encoding.ts";
import type { ListOptions, ListPage } from "../../shared/metadata/index.ts";
import { KvMetadataStore } from "../../shared/metadata/kv-binding.ts";
import { CURRENT_PREFIX } from "../../shared/objects/manifest.ts";
import { newEd25519Key } from "../support/keys.ts";
import { keyWithScopes, testGateway, type TestGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

const CHUNK = 64 * 1024;

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65_536) crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65_536)));
  return bytes;
}

async function put(gateway: TestGateway, key: string, body: Uint8Array, headers: Record<string, string> = {}) {
  return gateway.signed("PUT", `/v1/objects/${key}`, { body, headers: { "content-length": String(body.length), ...headers } });
}

describe("/v1/objects routes in workerd", () => {
  it("round-trips an object with the contract's headers", async () => {
    const gateway = await testGateway({ CHUNK_SIZE_BYTES: String(CHUNK) });
    const bytes = randomBytes(3.5 * CHUNK);
    const created = await put(gateway, "team-a/data.bin", bytes, { "content-type": "application/x-test" });
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, unknown>;
    const hex = toHex(await sha256(bytes));
    expect(body).toMatchObject({ key: "team-a/data.bin", size: bytes.length, sha256: hex, chunk_size: CHUNK, etag: `"${hex}"` });
    const got = await gateway.signed("GET", "/v1/objects/team-a/data.bin");
    expect(got.status).toBe(200);
    expect(got.headers.get("etag")).toBe(`"${hex}"`);
    expect(got.headers.get("content-length")).toBe(String(bytes.length));
    expect(got.headers.get("content-type")).toBe("application/x-test");
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
    const head = await gateway.signed("HEAD", "/v1/objects/team-a/data.bin");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    const ranged = await gateway.signed("GET", "/v1/objects/team-a/data.bin", { headers: { range: `bytes=${CHUNK - 5}-${CHUNK + 4}` } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes ${CHUNK - 5}-${CHUNK + 4}/${bytes.length}`);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(bytes.slice(CHUNK - 5, CHUNK + 5));
    const cached = await gateway.signed("GET", "/v1/objects/team-a/data.bin", { headers: { "if-none-match": `"${hex}"` } });
    expect(cached.status).toBe(304);
    const list = await gateway.signed("GET", "/v1/objects?prefix=team-a/");
    expect(await list.json()).toMatchObject({ objects: [{ key: "team-a/data.bin", size: bytes.length, sha256: hex }] });
    expect((await gateway.signed("DELETE", "/v1/objects/team-a/data.bin")).status).toBe(204);
    expect(await problemOf(await gateway.signed("GET", "/v1/objects/team-a/data.bin"))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("answers 502 integrity_failure when the first chunk was altered in R2", async () => {
    const gateway = await testGateway({ CHUNK_SIZE_BYTES: String(CHUNK) });
    const bytes = randomBytes(2 * CHUNK);
    const { version } = (await (await put(gateway, "t/x", bytes)).json()) as { version: string };
    const altered = bytes.slice();
    altered[10] = altered[10]! ^ 1;
    const manifest = (await env.META.get("obj:t/x", "json")) as { blob: string; version: string };
    expect(manifest.version).toBe(version);
    await env.OBJECTS.put(manifest.blob, altered);
    expect(await problemOf(await gateway.signed("GET", "/v1/objects/t/x"))).toMatchObject({ status: 502, code: "integrity_failure" });
    expect(gateway.log.events("integrity_failure")).toMatchObject([{ fields: { key: "t/x", chunk: 0 } }]);
  });

  it("keeps a key limited to a/ out of b/ for every action", async () => {
    const gateway = await testGateway();
    await put(gateway, "b/secret", new Uint8Array([1, 2, 3]));
    const user = await newEd25519Key();
    await gateway.signed("POST", "/v1/keys", {
      body: JSON.stringify({
        keyid: "a-only",
        alg: "ed25519",
        public_key: user.publicKey,
        scopes: [{ prefix: "a/", actions: ["read", "write", "delete", "list"] }],
      }),
    });
    const as = { keyid: "a-only", key: { alg: "ed25519" as const, privateKey: user.privateKey } };
    const body = new Uint8Array([9]);
    const attempts = [
      gateway.signed("GET", "/v1/objects/b/secret", { as }),
      gateway.signed("HEAD", "/v1/objects/b/secret", { as }),
      gateway.signed("PUT", "/v1/objects/b/secret", { as, body, headers: { "content-length": "1" } }),
      gateway.signed("DELETE", "/v1/objects/b/secret", { as }),
      gateway.signed("GET", "/v1/objects?prefix=b/", { as }),
    ];
    for (const response of await Promise.all(attempts)) expect(response.status).toBe(403);
    const listAll = (await (await gateway.signed("GET", "/v1/objects?prefix=", { as })).json()) as { objects: { key: string }[] };
    expect(listAll.objects.map((object) => object.key).filter((key) => key.startsWith("b/"))).toEqual([]);
    expect((await gateway.signed("GET", "/v1/objects/b/secret")).status).toBe(200);
  });
});

/** KV metadata that remembers every prefix it was asked to list. */
class ListRecordingStore extends KvMetadataStore {
  readonly prefixes: string[] = [];
  override list(prefix: string, options?: ListOptions): Promise<ListPage> {
    this.prefixes.push(prefix);
    return super.list(prefix, options);
  }
}

describe("listing within scopes", () => {
  it("narrows a broad listing to the caller's one list scope: the metadata store is only ever asked for keys under it", async () => {
    const metadata = new ListRecordingStore(env.META);
    const gateway = await testGateway({}, { metadata });
    for (const key of ["0-hidden/1", "a/1", "a/2", "a/3", "b/hidden"]) await put(gateway, key, new Uint8Array([1]));
    const as = await keyWithScopes(gateway, "lister", [{ prefix: "a/", actions: ["list"] }]);
    metadata.prefixes.length = 0;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = (await (await gateway.signed("GET", `/v1/objects?prefix=&limit=1${query}`, { as })).json()) as {
        objects: { key: string }[];
        cursor: string | null;
      };
      seen.push(...page.objects.map((object) => object.key));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(["a/1", "a/2", "a/3"]);
    const asked = metadata.prefixes.filter((prefix) => prefix.startsWith(CURRENT_PREFIX));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((prefix) => !prefix.startsWith(`${CURRENT_PREFIX}a/`))).toEqual([]);
  });

  it("refuses with 400 a prefix that spans several list scopes", async () => {
    const gateway = await testGateway();
    const user = await newEd25519Key();
    await gateway.signed("POST", "/v1/keys", {
      body: JSON.stringify({
        keyid: "two",
        alg: "ed25519",
        public_key: user.publicKey,
        scopes: [
          { prefix: "a/", actions: ["list"] },
          { prefix: "c/", actions: ["list"] },
        ],
      }),
    });
    const as = { keyid: "two", key: { alg: "ed25519" as const, privateKey: user.privateKey } };
    expect(await problemOf(await gateway.signed("GET", "/v1/objects?prefix=", { as }))).toMatchObject({ status: 400, code: "bad_request" });
    expect((await gateway.signed("GET", "/v1/objects?prefix=c/", { as })).status).toBe(200);
  });
});
