import { join } from "node:path";
import { MIB } from "../../shared/bytes.ts";
import { toHex } from "../../shared/crypto/encoding.ts";
import { authRounds, signingCostUs } from "../measures/auth.ts";
import { onInterrupt } from "../harness/cleanup.ts";
import { BENCH_ENCRYPTION_KEYS, type EncryptedDownloadRuns, encryptedDownloadRounds } from "../measures/encrypted-downloads.ts";
import { DOWNLOAD_VARIANTS, type DownloadRun, type DownloadVariant, downloadOnce, downloadRounds, firstBytePairs } from "../measures/downloads.ts";
import { type BenchGateway, bundleBenchWorker, startBenchGateway } from "../harness/workers-gateway.ts";
import { memoryPhase } from "../measures/memory-phase.ts";
import { type BenchObject, putVerified } from "../harness/objects.ts";
import type { Plan } from "../plan.ts";
import type { MemorySampler } from "../harness/process-memory.ts";
import type { Report } from "../report/report.ts";
import {
  addAuthSection,
  addDownloadSection,
  addEncryptedDownloadSection,
  addLoadSection,
  addRow,
  addSessionSection,
  authRatios,
  downloadRatios,
} from "../report/rows.ts";
import { uploadRounds } from "../measures/uploads.ts";
import { type BurstResult, concurrentBurst, LOAD_BURST } from "../measures/load.ts";
import {
  freshProcessPeakOverIdle,
  type MemoryPhaseObjects,
  memoryPhaseObjects,
  SESSION_MEMORY_OPERATIONS,
  type SessionMemoryOperation,
  type SessionRuns,
  sessionRounds,
} from "../measures/sessions.ts";

/** The gateway's default verification chunk (CHUNK_SIZE_BYTES); the bench config keeps it. */
const CHUNK_BYTES = MIB;
/** Enough signatures that the per-request figure is stable to a few microseconds. */
const SIGNING_SAMPLES = 1000;

export interface WorkersInput {
  dir: string;
  small: BenchObject;
  large: BenchObject;
  warmup: BenchObject;
  /** Uploaded in a session and downloaded once, for the Worker's memory over a large transfer. */
  sessionLarge: BenchObject;
  plan: Plan;
  sampler: MemorySampler;
  progress: (message: string) => void;
}

async function startGateway(bundle: string, stateDir: string, vars?: Record<string, string>): Promise<BenchGateway> {
  const gateway = await startBenchGateway(bundle, stateDir, vars);
  return { ...gateway, stop: onInterrupt(gateway.stop) };
}

/** Every Workers row: downloads, first byte, memory, upload and auth, measured against the bench Worker under wrangler dev. */
export async function workersSection(report: Report, input: WorkersInput): Promise<void> {
  const { small, large, warmup, plan, sampler, progress } = input;
  const stateDir = join(input.dir, "state");
  const bundle = await bundleBenchWorker(join(input.dir, "bundle"));

  let gateway = await startGateway(bundle, stateDir);
  let upload: Awaited<ReturnType<typeof uploadRounds>>;
  let sessions: SessionRuns;
  try {
    progress(`bench Worker up at ${gateway.origin} (workerd pid ${gateway.processes.gateway}, proxy pid ${gateway.processes.proxy ?? "none"})`);
    const target = { ...gateway, benchOrigin: gateway.origin };
    for (const object of [warmup, small, large]) {
      progress(`uploading ${object.key} (${object.size / MIB} MiB) through the verified PUT`);
      await putVerified(gateway, object);
    }
    for (const object of [small, large]) {
      const check = await downloadOnce(target, sampler, "verified", object, true);
      if (check.sha256 !== toHex(object.sha256)) throw new Error(`verified GET of ${object.key} returned other bytes`);
    }
    progress("correctness: both verified downloads hash, in the client, to the bytes uploaded");
    progress(`upload: ${plan.uploadRounds} rounds of verified PUT vs raw put, ${small.size / MIB} MiB`);
    upload = await uploadRounds(target, sampler, small, plan.uploadRounds);
    progress(`upload sessions: ${plan.sessionRounds} rounds of session vs raw multipart, ${small.size / MIB} MiB`);
    sessions = await sessionRounds(target, sampler, small, plan.sessionRounds);
  } finally {
    await gateway.stop();
  }

  // A fresh process for the memory phase: the uploads left heap room that downloads would reuse unseen.
  gateway = await startGateway(bundle, stateDir);
  const downloads = new Map<string, Map<DownloadVariant, DownloadRun[]>>();
  let memory: Awaited<ReturnType<typeof memoryPhase>>;
  let ttfb: Awaited<ReturnType<typeof firstBytePairs>>;
  let signingUs: number;
  let auth: Awaited<ReturnType<typeof authRounds>>;
  try {
    const target = { ...gateway, benchOrigin: gateway.origin };
    progress(`memory: ${plan.memoryRounds} rounds of verified downloads in a fresh workerd (pid ${gateway.processes.gateway})`);
    memory = await memoryPhase(target, sampler, [small, large], plan.memoryRounds, warmup);
    const variants = DOWNLOAD_VARIANTS.map((variant) => variant.id);
    for (const [object, rounds] of [
      [small, plan.smallRounds],
      [large, plan.largeRounds],
    ] as const) {
      const runs = await downloadRounds(target, sampler, object, rounds, variants, (round) =>
        progress(`download ${object.size / MIB} MiB: round ${round + 1}/${rounds}`),
      );
      downloads.set(object.label, runs);
    }
    progress(`first byte: ${plan.ttfbPairs} interleaved verified/raw pairs`);
    ttfb = await firstBytePairs(target, small, plan.ttfbPairs);
    signingUs = await signingCostUs(gateway, SIGNING_SAMPLES);
    progress(`auth: ${plan.authRounds} rounds x concurrency ${plan.concurrencies.join(", ")} x ${plan.authMs} ms per variant`);
    auth = await authRounds({ ...gateway, claimUrl: `${gateway.origin}/bench/claim` }, plan.concurrencies, plan.authRounds, plan.authMs);
  } finally {
    await gateway.stop();
  }

  // A fresh process once more: the burst's growth is measured over a baseline no earlier transfer inflated.
  gateway = await startGateway(bundle, stateDir);
  let load: BurstResult;
  try {
    progress(
      `load: ${LOAD_BURST.uploads} uploads + ${LOAD_BURST.downloads} downloads of ${LOAD_BURST.size / MIB} MiB at once (workerd pid ${gateway.processes.gateway})`,
    );
    load = await concurrentBurst(
      { origin: gateway.origin, signer: gateway.signer, gatewayPid: gateway.processes.gateway, log: gateway.output },
      sampler,
      LOAD_BURST,
    );
  } finally {
    await gateway.stop();
  }

  // A plain and an encrypting Worker side by side, fresh, each holding the small object: verified downloads alternated.
  gateway = await startGateway(bundle, stateDir);
  let encrypted: EncryptedDownloadRuns;
  try {
    const encrypting = await startGateway(bundle, join(input.dir, "state-encrypted"), { ENCRYPTION_KEYS: BENCH_ENCRYPTION_KEYS });
    try {
      progress(
        `encrypted download: ${small.size / MIB} MiB stored encrypted (workerd pid ${encrypting.processes.gateway}) vs plain (pid ${gateway.processes.gateway})`,
      );
      await putVerified(encrypting, small);
      const encryptedTarget = { ...encrypting, benchOrigin: encrypting.origin };
      const check = await downloadOnce(encryptedTarget, sampler, "verified", small, true);
      if (check.sha256 !== toHex(small.sha256)) throw new Error(`encrypted verified GET of ${small.key} returned other bytes`);
      encrypted = await encryptedDownloadRounds({ ...gateway, benchOrigin: gateway.origin }, encryptedTarget, sampler, small, plan.smallRounds, (round) =>
        progress(`encrypted vs plain download: round ${round + 1}/${plan.smallRounds}`),
      );
    } finally {
      await encrypting.stop();
    }
  } finally {
    await gateway.stop();
  }

  // Fresh processes again: a large session upload in one, its verified download in the next, to see memory stay flat.
  const sessionMemory: Partial<Record<SessionMemoryOperation, { idleMib: number; overIdleMib: number }>> = {};
  let memoryObjects: MemoryPhaseObjects | undefined;
  for (const operation of SESSION_MEMORY_OPERATIONS) {
    gateway = await startGateway(bundle, stateDir);
    try {
      progress(`session memory: ${operation} of ${input.sessionLarge.size / MIB} MiB in a fresh workerd (pid ${gateway.processes.gateway})`);
      memoryObjects ??= await memoryPhaseObjects(gateway, warmup, input.sessionLarge);
      sessionMemory[operation] = await freshProcessPeakOverIdle({ ...gateway, benchOrigin: gateway.origin }, sampler, operation, memoryObjects);
    } finally {
      await gateway.stop();
    }
  }

  const m = report.medians;
  const smallMedians = addDownloadSection(
    report,
    `Workers download, ${small.size / MIB} MiB (${plan.smallRounds} rounds)`,
    small,
    downloads.get(small.label) ?? new Map(),
  );
  const largeMedians = addDownloadSection(
    report,
    `Workers download, ${large.size / MIB} MiB (${plan.largeRounds} rounds)`,
    large,
    downloads.get(large.label) ?? new Map(),
  );
  downloadRatios(m, "", smallMedians, largeMedians);

  const ttfbSection = `Workers first byte, ${small.size / MIB} MiB, connection dropped after it (${plan.ttfbPairs} pairs)`;
  m.ttfb_verified_ms = addRow(report, ttfbSection, "verified GET /v1/objects", "ms", ttfb.verified);
  m.ttfb_raw_ms = addRow(report, ttfbSection, "raw pass-through", "ms", ttfb.raw);
  m.chunk_hash_ms = (CHUNK_BYTES / MIB / (smallMedians.mibps["hash-memory"] ?? Number.NaN)) * 1000;
  m.ttfb_buffered_over_verified = (smallMedians.ttfbMs.buffered ?? Number.NaN) / m.ttfb_verified_ms;

  const memorySection = `Workers memory, verified download in a fresh workerd (idle RSS ${memory.idleBaselineMib.toFixed(0)} MiB, ${plan.memoryRounds} rounds)`;
  for (const object of [small, large]) {
    m[`mem_growth_mib_${object.label}`] = addRow(
      report,
      memorySection,
      `peak over idle, ${object.size / MIB} MiB`,
      "MiB",
      memory.overIdleMib.get(object.label) ?? [],
    );
    addRow(report, memorySection, `peak over the RSS before the request, ${object.size / MIB} MiB`, "MiB", memory.perRequestMib.get(object.label) ?? []);
  }

  const uploadSection = `Workers upload, ${small.size / MIB} MiB (${plan.uploadRounds} rounds)`;
  const verifiedPut = addRow(report, uploadSection, "verified PUT /v1/objects", "MiB/s", upload.verifiedMibps);
  const rawPut = addRow(report, uploadSection, "raw R2 put", "MiB/s", upload.rawMibps);
  addRow(report, uploadSection, "gateway CPU, verified PUT", "ms", upload.verifiedCpuMs);
  addRow(report, uploadSection, "gateway CPU, raw put", "ms", upload.rawCpuMs);
  m.upload_verified_over_raw = verifiedPut / rawPut;

  addSessionSection(report, small, plan.sessionRounds, sessions, input.sessionLarge, sessionMemory);
  addEncryptedDownloadSection(report, small, plan.smallRounds, encrypted);

  const authSection = `Workers auth (${plan.authRounds} rounds of ${plan.authMs / 1000} s; requests signed before each run, ${signingUs.toFixed(0)} us each)`;
  authRatios(m, "", addAuthSection(report, authSection, auth, plan.concurrencies));
  m.signing_cost_us = signingUs;
  addLoadSection(report, "workers", "Workers", LOAD_BURST, load);
}
