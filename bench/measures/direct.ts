import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { downloadDirect } from "../../client/cli/direct-download.ts";
import { VerigateClient } from "../../client/sdk/client.ts";
import { GIB } from "../../shared/bytes.ts";
import { toHex } from "../../shared/crypto/encoding.ts";
import { type BenchObject, mibPerSecond } from "../harness/objects.ts";
import type { MemorySampler } from "../harness/process-memory.ts";
import { type DownloadTarget, downloadOnce } from "./downloads.ts";

/** `verigate get --direct`'s default: Range requests in flight at once. */
const DIRECT_PARALLEL = 4;

export interface DirectRuns {
  /** The gateway's verified stream of the object (`GET /v1/objects`), as in the download rows. */
  gatewayMibps: number[];
  /** The CLI's direct download: plan, parallel Range GETs of the storage URL, every chunk verified, written, whole SHA-256. */
  directMibps: number[];
  /** CPU of this (the client's) process during the direct download, per GiB of object. */
  clientCpuMsPerGib: number[];
}

/**
 * The gateway's verified stream and the CLI's direct download of the same object, alternating. The direct download is
 * the CLI's own code (client/cli/direct-download.ts) in this process, so `process.cpuUsage` around it is the client's
 * CPU: receiving, the chunk digests, the positional writes and the whole-file SHA-256 read back from disk. The
 * streamed variant's client only hashes what it receives and writes nothing: the comparison favours it.
 */
export async function directRounds(
  target: DownloadTarget,
  sampler: MemorySampler,
  object: BenchObject,
  rounds: number,
  onRound: (round: number) => void,
): Promise<DirectRuns> {
  const client = new VerigateClient({ endpoint: target.origin, key: { keyid: target.signer.keyid, signingKey: target.signer.key } });
  const dir = await mkdtemp(join(tmpdir(), "verigate-bench-direct-"));
  const runs: DirectRuns = { gatewayMibps: [], directMibps: [], clientCpuMsPerGib: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      runs.gatewayMibps.push((await downloadOnce(target, sampler, "verified", object)).mibps);
      const out = join(dir, `${object.label}.bin`);
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const got = await downloadDirect(client, object.key, out, { parallel: DIRECT_PARALLEL, warn: () => {}, progress: false });
      const ms = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      if (got.sha256 !== toHex(object.sha256)) throw new Error(`the direct download of ${object.key} returned other bytes`);
      runs.directMibps.push(mibPerSecond(object.size, ms));
      runs.clientCpuMsPerGib.push(((cpu.user + cpu.system) / 1000) * (GIB / object.size));
      await rm(out, { force: true });
      onRound(round);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return runs;
}
