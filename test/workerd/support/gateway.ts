import { env } from "cloudflare:workers";
import type { Hono } from "hono";
import { createApp } from "../../../functions/app.ts";
import type { AppEnv, Backends } from "../../../functions/context.ts";
import { parseConfig, type Vars } from "../../../shared/config/index.ts";
import { DurableObjectSwapAuthority } from "../../../shared/metadata/durable-object.ts";
import { KvMetadataStore } from "../../../shared/metadata/kv-binding.ts";
import { DurableObjectReplayStore } from "../../../shared/replay/durable-object.ts";
import { R2ObjectStorage } from "../../../shared/storage/r2-binding.ts";
import { workerdStreams } from "../../../shared/streams/workerd.ts";
import { DurableObjectUploadSessionStore } from "../../../shared/uploads/durable-object.ts";
import { DurableObjectLfsLockStore } from "../../../shared/lfs/locks-durable-object.ts";
import type { Scope } from "../../../shared/keys/index.ts";
import { signRequest, type SigningKey } from "../../../shared/signature/index.ts";
import { newEd25519Key } from "../../support/keys.ts";
import { RecordingLogger } from "../../support/recording-logger.ts";

export interface TestGateway {
  app: Hono<AppEnv>;
  log: RecordingLogger;
  /** Epoch milliseconds the gateway believes it is; tests move it to cross freshness windows. */
  now: number;
  admin: { keyid: string; key: SigningKey; publicKey: string };
  fetch(request: Request): Promise<Response>;
  /** Signs with the admin key (or `as`) at the gateway's current time and sends. */
  signed(method: string, path: string, init?: SignedInit): Promise<Response>;
}

export interface SignedInit {
  body?: Uint8Array | string;
  headers?: Record<string, string>;
  as?: { keyid: string; key: SigningKey };
  created?: number;
  expires?: number;
  nonce?: string;
  /** Replaces the covered components (a Content-Digest is still sent with a body); for tests of the profile. */
  components?: string[];
}

export const ORIGIN = "http://gateway.test";
/** Storage presign on, with S3 settings of the shape R2 takes (nothing is sent to them: presigning is local). */
export const STORAGE_PRESIGN_ON = {
  PRESIGN_STORAGE: "on",
  S3_BUCKET: "verigate-objects",
  S3_ENDPOINT: "https://account.r2.cloudflarestorage.com",
  S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
  S3_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
export const T0_MS = Date.UTC(2026, 10, 23, 12, 0, 0);

/**
 * The real app on the real local KV, R2 and Durable Object bindings inside workerd; only the clock and the
 * logger are the test's, and `overrides` can swap a backend (for example to simulate an outage).
 */
export async function testGateway(vars: Vars = {}, overrides: Partial<Backends> = {}): Promise<TestGateway> {
  const admin = await newEd25519Key();
  const adminKeyid = `admin-${crypto.randomUUID().slice(0, 8)}`;
  const log = new RecordingLogger();
  const gateway: TestGateway = {
    app: undefined as unknown as Hono<AppEnv>,
    log,
    now: T0_MS,
    admin: { keyid: adminKeyid, key: { alg: "ed25519", privateKey: admin.privateKey }, publicKey: admin.publicKey },
    fetch: (request) => Promise.resolve(gateway.app.fetch(request, env)),
    async signed(method, path, init = {}) {
      const body = typeof init.body === "string" ? new TextEncoder().encode(init.body) : init.body ? new Uint8Array(init.body) : undefined;
      const signer = init.as ?? gateway.admin;
      const url = ORIGIN + path;
      const { headers } = await signRequest({
        method,
        url,
        headers: init.headers ?? {},
        ...(body ? { body } : {}),
        key: signer.key,
        keyid: signer.keyid,
        created: init.created ?? Math.floor(gateway.now / 1000),
        ...(init.expires !== undefined ? { expires: init.expires } : {}),
        ...(init.nonce !== undefined ? { nonce: init.nonce } : {}),
        ...(init.components ? { components: init.components } : {}),
      });
      return gateway.fetch(new Request(url, { method, headers: { ...init.headers, ...headers }, ...(body ? { body } : {}) }));
    },
  };
  const config = parseConfig({ ADMIN_KEYS: `${adminKeyid}=${admin.publicKey}`, ...vars }, "workers");
  const backends: Backends = {
    config,
    replay: new DurableObjectReplayStore(env.REPLAY),
    metadata: new KvMetadataStore(env.META, new DurableObjectSwapAuthority(env.COMMITS)),
    storage: new R2ObjectStorage(env.OBJECTS),
    uploads: new DurableObjectUploadSessionStore(env.UPLOADS),
    lfsLocks: new DurableObjectLfsLockStore(env.LFS_LOCKS),
    streams: workerdStreams,
    clock: () => gateway.now,
    log,
    limits: undefined,
    clientAddress: (c) => c.req.header("x-test-client") ?? "test-client",
    ...overrides,
  };
  gateway.app = createApp(() => backends);
  return gateway;
}

/** Creates an ed25519 key with `scopes` through the admin API; what a test passes as `as` to sign with it. */
export async function keyWithScopes(gateway: TestGateway, keyid: string, scopes: Scope[]): Promise<{ keyid: string; key: SigningKey }> {
  const pair = await newEd25519Key();
  const created = await gateway.signed("POST", "/v1/keys", { body: JSON.stringify({ keyid, alg: "ed25519", public_key: pair.publicKey, scopes }) });
  if (created.status !== 201) throw new Error(`creating key ${keyid}: ${created.status} ${await created.text()}`);
  return { keyid, key: { alg: "ed25519", privateKey: pair.privateKey } };
}
