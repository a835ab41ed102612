import { env } from "cloudflare:workers";
import { type CommitShard, DurableObjectSwapAuthority } from "../../shared/metadata/durable-object.ts";
import { KvMetadataStore } from "../../shared/metadata/kv-binding.ts";
import { MemoryMetadataStore } from "../../shared/metadata/memory.ts";
import { MemoryObjectStorage } from "../../shared/storage/memory.ts";
import { R2ObjectStorage } from "../../shared/storage/r2-binding.ts";
import { describeMetadataStoreContract } from "../contracts/metadata-store.ts";
import { describeObjectStorageContract } from "../contracts/object-storage.ts";

/** The bindings of wrangler.toml this file uses; typed here because generated Env types may not exist yet. */
const bindings = env as unknown as { META: KVNamespace; OBJECTS: R2Bucket; COMMITS: DurableObjectNamespace<CommitShard> };

describeMetadataStoreContract(
  "KV binding with the commit Durable Object",
  () => new KvMetadataStore(bindings.META, new DurableObjectSwapAuthority(bindings.COMMITS)),
  {
    backend: "kv",
    atomicSwap: true,
  },
);
describeMetadataStoreContract("KV binding alone", () => new KvMetadataStore(bindings.META), {
  backend: "kv",
  atomicSwap: false,
  reason: "KV has no compare-and-set: a swap reads, compares and writes",
});
describeMetadataStoreContract("memory", () => new MemoryMetadataStore(), { backend: "memory", atomicSwap: true });

const ENFORCED = { enforced: true } as const;

describeObjectStorageContract("R2 binding", () => new R2ObjectStorage(bindings.OBJECTS), {
  backend: "r2",
  verifiesSha256: true,
  multipart: {
    minPartSize: ENFORCED,
    equalPartSizes: ENFORCED,
    partEtags: ENFORCED,
    missingParts: ENFORCED,
    partSha256: { enforced: false, reason: "R2's uploadPart takes no checksum; the gateway hashes each part as it streams" },
    abort: ENFORCED,
  },
});
describeObjectStorageContract("memory", () => new MemoryObjectStorage(), {
  backend: "memory",
  verifiesSha256: true,
  multipart: { minPartSize: ENFORCED, equalPartSizes: ENFORCED, partEtags: ENFORCED, missingParts: ENFORCED, partSha256: ENFORCED, abort: ENFORCED },
});
