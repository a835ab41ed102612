import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../../shared/config/index.ts";
import { workersConfig } from "../../functions/workers/backends.ts";
import { KvReplayStore } from "../../shared/replay/kv-binding.ts";
import { testGateway } from "./support/gateway.ts";
import { problemOf } from "../support/problem.ts";

describe("configuration", () => {
  it("applies the documented defaults", () => {
    expect(parseConfig({}, "workers")).toMatchObject({
      authMode: "enforce",
      replayStore: "durable-object",
      clockSkewSeconds: 30,
      maxSignatureAgeSeconds: 300,
      maxObjectBytes: 100 * 1024 * 1024,
      chunkSizeBytes: 1024 * 1024,
      presignMaxSeconds: 3600,
      presignStorage: false,
      problems: [],
      warnings: ["presign_secret_missing"],
    });
    expect(parseConfig({}, "lambda").replayStore).toBe("dynamodb");
  });

  it("is frozen so no handler can change it at run time", () => {
    const config = parseConfig({}, "workers");
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.adminKeys)).toBe(true);
  });

  it.each([
    [{ AUTH_MODE: "permissive" }, "invalid_auth_mode"],
    [{ REPLAY_STORE: "redis" }, "invalid_replay_store"],
    [{ CHUNK_SIZE_BYTES: "100000" }, "invalid_chunk_size_bytes"],
    [{ CHUNK_SIZE_BYTES: "33554432" }, "invalid_chunk_size_bytes"],
    [{ CLOCK_SKEW_SECONDS: "-1" }, "invalid_clock_skew_seconds"],
    [{ MAX_OBJECT_BYTES: "lots" }, "invalid_max_object_bytes"],
    [{ PRESIGN_SECRET: "too-short" }, "presign_secret_too_short"],
    [{ S3_BUCKET: "my-bucket" }, "s3_bucket_example_name"],
    [{ S3_BUCKET: "Your-Bucket-Name" }, "s3_bucket_example_name"],
    [{ DYNAMODB_TABLE: "my-table" }, "dynamodb_table_example_name"],
    [{ ADMIN_KEYS: "ops=not-a-key" }, "invalid_admin_keys"],
    [{ PUBLIC_ORIGIN: "files.example.org" }, "invalid_public_origin"],
  ])("reports %o as %s", (vars, problem) => {
    expect(parseConfig(vars, "workers").problems).toContain(problem);
  });

  it("names a missing binding as a problem", () => {
    const { OBJECTS: _objects, ...withoutBucket } = env;
    expect(workersConfig(withoutBucket as Env).problems).toContain("missing_binding_objects");
    // Without it, conditional writes on Workers would silently fall back to KV's read-compare-write.
    const { COMMITS: _commits, ...withoutCommits } = env;
    expect(workersConfig(withoutCommits as Env).problems).toContain("missing_binding_commits");
    // Without it, upload sessions would have no strongly consistent record to live in.
    const { UPLOADS: _uploads, ...withoutUploads } = env;
    expect(workersConfig(withoutUploads as Env).problems).toEqual(["missing_binding_uploads"]);
    // Without it, no store could give a path one lock owner under concurrency.
    const { LFS_LOCKS: _lfsLocks, ...withoutLfsLocks } = env;
    expect(workersConfig(withoutLfsLocks as Env).problems).toEqual(["missing_binding_lfs_locks"]);
    expect(workersConfig(env).problems).toEqual([]);
  });

  it("takes the runtime's facts as plain names, never bindings, and refuses REPLAY_STORE=dynamodb on Workers", () => {
    expect(loadConfig({}, { runtime: "workers", bindings: [] }).problems).toEqual([
      "missing_binding_objects",
      "missing_binding_meta",
      "missing_binding_replay",
      "missing_binding_commits",
      "missing_binding_uploads",
      "missing_binding_lfs_locks",
    ]);
    expect(
      loadConfig({ REPLAY_STORE: "dynamodb" }, { runtime: "workers", bindings: ["OBJECTS", "META", "REPLAY", "COMMITS", "UPLOADS", "LFS_LOCKS"] }).problems,
    ).toEqual(["replay_store_unsupported_on_workers"]);
  });

  it.each([
    [{}, ["presign_secret_missing"]],
    [{ PRESIGN_STORAGE: "on" }, ["presign_secret_missing", "presign_storage_s3_bucket_missing"]],
    [{ PRESIGN_STORAGE: "on", S3_BUCKET: "verigate-objects" }, ["presign_secret_missing", "presign_storage_s3_credentials_missing"]],
    [
      { PRESIGN_STORAGE: "on", S3_BUCKET: "verigate-objects", S3_ENDPOINT: "https://r2.example", S3_ACCESS_KEY_ID: "a", S3_SECRET_ACCESS_KEY: "s" },
      ["presign_secret_missing"],
    ],
    // The bucket is only for storage presign on Workers: without PRESIGN_STORAGE=on nothing is missing.
    [{ S3_BUCKET: "verigate-objects", PRESIGN_SECRET: "s".repeat(32) }, []],
  ])("warns of %o as %o on Workers, before any request needs it", (vars, warnings) => {
    expect(parseConfig(vars, "workers").warnings).toEqual(warnings);
  });
});

describe("refusing to serve when misconfigured", () => {
  it("answers 503 misconfigured on signed routes, while /healthz lists the problem codes without values", async () => {
    const gateway = await testGateway({ S3_BUCKET: "example-bucket", PRESIGN_SECRET: "hunter2" });
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami"))).toMatchObject({ status: 503, code: "misconfigured" });
    const health = await gateway.fetch(new Request("http://gateway.test/healthz"));
    expect(health.status).toBe(503);
    const body = await health.text();
    expect(JSON.parse(body)).toMatchObject({ status: "misconfigured", problems: ["presign_secret_too_short", "s3_bucket_example_name"] });
    expect(body).not.toContain("hunter2");
    expect(body).not.toContain("example-bucket");
    expect(JSON.parse(body)).not.toHaveProperty("warnings");
  });

  it("/healthz warns of a missing PRESIGN_SECRET while status stays ok, as presign answers 503 and other routes serve", async () => {
    const gateway = await testGateway();
    const health = await gateway.fetch(new Request("http://gateway.test/healthz"));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", warnings: ["presign_secret_missing"] });
    expect((await gateway.signed("GET", "/v1/whoami")).status).toBe(200);
    const presign = await gateway.signed("POST", "/v1/presign", { body: JSON.stringify({ key: "any/key" }) });
    expect(await problemOf(presign)).toMatchObject({ status: 503, code: "misconfigured" });

    const configured = await testGateway({ PRESIGN_SECRET: "s".repeat(32) });
    expect(await (await configured.fetch(new Request("http://gateway.test/healthz"))).json()).not.toHaveProperty("warnings");
  });

  it("/healthz warns of storage presign without its S3 settings from the start, while status stays ok", async () => {
    const gateway = await testGateway({ PRESIGN_SECRET: "s".repeat(32), PRESIGN_STORAGE: "on", S3_BUCKET: "verigate-objects" });
    const health = await gateway.fetch(new Request("http://gateway.test/healthz"));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", presign_storage: true, warnings: ["presign_storage_s3_credentials_missing"] });
    // The storage presign itself answers 503 misconfigured (presign.test.ts); every other route serves.
    expect((await gateway.signed("GET", "/v1/whoami")).status).toBe(200);
  });

  it("/healthz states the upload limit, MAX_OBJECT_BYTES, for clients to check before sending a body", async () => {
    const gateway = await testGateway({ MAX_OBJECT_BYTES: "1234" });
    expect(await (await gateway.fetch(new Request("http://gateway.test/healthz"))).json()).toMatchObject({ max_object_bytes: 1234 });
  });

  it("/healthz reports the replay store and storage the gateway serves with, as each describes itself", async () => {
    const gateway = await testGateway({ REPLAY_STORE: "kv" }, { replay: new KvReplayStore(env.META) });
    expect(await (await gateway.fetch(new Request("http://gateway.test/healthz"))).json()).toMatchObject({
      replay_store: { backend: "kv", atomic: false },
      storage: { backend: "r2" },
    });
  });

  it("serves REPLAY_STORE=memory only to loopback hosts", async () => {
    const gateway = await testGateway({ REPLAY_STORE: "memory" });
    expect(await problemOf(await gateway.signed("GET", "/v1/whoami"))).toMatchObject({ status: 503, code: "misconfigured" });
  });
});
describe("/healthz through the Worker entry", () => {
  it("reports the Workers backends without authentication", async () => {
    const response = await exports.default.fetch("http://localhost/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ok",
      version: "0.1.0",
      runtime: "workers",
      auth_mode: "enforce",
      replay_store: { backend: "durable-object", atomic: true },
      storage: { backend: "r2" },
      presign_storage: false,
      max_object_bytes: 100 * 1024 * 1024,
      // wrangler.toml sets no PRESIGN_SECRET: it is a secret.
      warnings: ["presign_secret_missing"],
    });
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
