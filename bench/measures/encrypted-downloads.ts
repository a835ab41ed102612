import type { BenchObject } from "../harness/objects.ts";
import type { MemorySampler } from "../harness/process-memory.ts";
import { type DownloadRun, type DownloadTarget, downloadOnce } from "./downloads.ts";

/** A deployment key for the encrypting bench Worker: fixed, since the bench's objects are its own. */
export const BENCH_ENCRYPTION_KEYS = `bench=${Buffer.alloc(32, 0x5b).toString("base64")}`;

export interface EncryptedDownloadRuns {
  plain: DownloadRun[];
  encrypted: DownloadRun[];
}

/**
 * Verified downloads of the same bytes from a plain gateway and from one with ENCRYPTION_KEYS set (its object stored
 * encrypted), alternated round by round (A B A B ...) in one run, so load drift hits both alike
 * (`download_encrypted_over_plain`, docs/ENCRYPTION.md).
 */
export async function encryptedDownloadRounds(
  plain: DownloadTarget,
  encrypted: DownloadTarget,
  sampler: MemorySampler,
  object: BenchObject,
  rounds: number,
  onRound: (round: number) => void,
): Promise<EncryptedDownloadRuns> {
  const runs: EncryptedDownloadRuns = { plain: [], encrypted: [] };
  for (let round = 0; round < rounds; round++) {
    runs.plain.push(await downloadOnce(plain, sampler, "verified", object));
    runs.encrypted.push(await downloadOnce(encrypted, sampler, "verified", object));
    onRound(round);
  }
  return runs;
}
