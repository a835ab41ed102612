import type { ObjectStorage } from "../../shared/storage/index.ts";

/** Object storage that records the keys of every put, get and delete it passes on, in order. */
export interface CountingStorage extends ObjectStorage {
  puts: string[];
  gets: string[];
  deletes: string[];
}

export function countingStorage(storage: ObjectStorage): CountingStorage {
  const puts: string[] = [];
  const gets: string[] = [];
  const deletes: string[] = [];
  return {
    backend: storage.backend,
    multipart: storage.multipart,
    puts,
    gets,
    deletes,
    put(blobKey, body, options) {
      puts.push(blobKey);
      return storage.put(blobKey, body, options);
    },
    get(blobKey, range) {
      gets.push(blobKey);
      return storage.get(blobKey, range);
    },
    delete(blobKey) {
      deletes.push(blobKey);
      return storage.delete(blobKey);
    },
  };
}
