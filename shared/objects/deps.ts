import type { EncryptionSettings } from "../config/encryption.ts";
import type { Logger } from "../log.ts";
import type { MetadataStore } from "../metadata/index.ts";
import type { ObjectStorage } from "../storage/index.ts";
import type { StreamRuntime } from "../streams/index.ts";

/** What the object core needs from its runtime; each function takes the subset it uses. */
export interface ObjectDeps {
  storage: ObjectStorage;
  metadata: MetadataStore;
  log: Logger;
  /** Epoch milliseconds; injected so tests can move time without waiting. */
  clock: () => number;
  streams: StreamRuntime;
  /** ENCRYPTION_KEYS and the legacy flag: every manifest read is verified, every manifest written signed. */
  config: { encryption: EncryptionSettings };
}
