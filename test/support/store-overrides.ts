import type { MetadataStore } from "../../shared/metadata/index.ts";
import type { ObjectStorage } from "../../shared/storage/index.ts";

/*
 * A store standing in for another with some of its methods replaced: a crash, an outage, a concurrent writer or a
 * recorder at one call. The stores are class instances, so spreading one would drop its methods; every method not
 * overridden is delegated by name instead.
 */

export function metadataWith(inner: MetadataStore, overrides: Partial<MetadataStore>): MetadataStore {
  return {
    backend: inner.backend,
    atomicSwap: inner.atomicSwap,
    get: (key) => inner.get(key),
    put: (key, value) => inner.put(key, value),
    delete: (key) => inner.delete(key),
    list: (prefix, options) => inner.list(prefix, options),
    swap: (key, next, condition, tagField) => inner.swap(key, next, condition, tagField),
    ...overrides,
  };
}

export function storageWith(inner: ObjectStorage, overrides: Partial<ObjectStorage>): ObjectStorage {
  return {
    backend: inner.backend,
    multipart: inner.multipart,
    put: (blobKey, body, options) => inner.put(blobKey, body, options),
    get: (blobKey, range) => inner.get(blobKey, range),
    delete: (blobKey) => inner.delete(blobKey),
    ...overrides,
  };
}
