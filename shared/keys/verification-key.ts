import { fromBase64 } from "../crypto/encoding.ts";
import { importEd25519PublicKey, type VerificationKey } from "../signature/index.ts";
import type { KeyRecord } from "./index.ts";

/**
 * Ed25519 keys imported per key record object. The lookup cache (lookup-cache.ts) hands out one record object while
 * its entry is younger than `KEY_CACHE_TTL_MS` and a freshly read one after, so an imported key lives exactly as long
 * as the record it came from and adds nothing to the cache's staleness bound. Importing per request cost about
 * 0.06 ms of the Node server's CPU per signed request (`--cpu-prof` at concurrency 10, issue 13).
 */
const importedKeys = new WeakMap<KeyRecord, Promise<Uint8Array | CryptoKey>>();

/** What `verifySignature` checks a request signed by `record`'s key against. */
export async function verificationKeyOf(record: KeyRecord): Promise<VerificationKey> {
  if (record.alg !== "ed25519") return { alg: "hmac-sha256", secret: fromBase64(record.secret ?? "") };
  let publicKey = importedKeys.get(record);
  if (!publicKey) {
    const bytes = fromBase64(record.public_key ?? "");
    // Bytes that are no Ed25519 key stay bytes, which verifySignature refuses.
    publicKey = importEd25519PublicKey(bytes).then((imported) => imported ?? bytes);
    importedKeys.set(record, publicKey);
    // A failed import is not kept: the next request tries again.
    publicKey.catch(() => importedKeys.delete(record));
  }
  return { alg: "ed25519", publicKey: await publicKey };
}
