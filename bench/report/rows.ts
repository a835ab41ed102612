import { AUTH_LABELS, AUTH_VARIANTS, type AuthRuns, authKey } from "../measures/auth.ts";
import { DOWNLOAD_VARIANTS, type DownloadRun, type DownloadVariant } from "../measures/downloads.ts";
import type { EncryptedDownloadRuns } from "../measures/encrypted-downloads.ts";
import { type BurstPlan, type BurstResult } from "../measures/load.ts";
import type { DirectRuns } from "../measures/direct.ts";
import type { DirectCliRun } from "../measures/direct-cli.ts";
import type { SessionMemoryOperation, SessionRuns } from "../measures/sessions.ts";
import { PART_CONCURRENCY } from "../harness/sessions.ts";
import { GIB, MIB } from "../../shared/bytes.ts";
import type { BenchObject } from "../harness/objects.ts";
import type { Report } from "./report.ts";
import { summarize } from "./stats.ts";

export function addRow(report: Report, section: string, label: string, unit: string, samples: number[]): number {
  const summary = summarize(samples);
  report.rows.push({ section, label, unit, summary });
  return summary.median;
}

export interface DownloadMedians {
  /** The object's size, so CPU figures can be stated per GiB. */
  bytes: number;
  mibps: Partial<Record<DownloadVariant, number>>;
  /** Throughput a single thread reaches when it must both pass the bytes through (raw) and hash them. */
  boundMibps: number | undefined;
  ttfbMs: Partial<Record<DownloadVariant, number>>;
  growthMib: Partial<Record<DownloadVariant, number>>;
  /** Gateway CPU per request, ms. */
  cpuMs: Partial<Record<DownloadVariant, number>>;
}

/**
 * The single-thread read+hash bound of one round: the raw pass-through's time plus native hashing's time
 * for the same number of bytes, as if one thread did both back to back.
 */
function boundSamples(object: BenchObject, runs: Map<DownloadVariant, DownloadRun[]>): number[] {
  const raw = runs.get("raw") ?? [];
  const hash = runs.get("hash-memory") ?? [];
  return raw.flatMap((run, round) => {
    const hashed = hash[round];
    return hashed ? [object.size / MIB / ((run.totalMs + hashed.totalMs) / 1000)] : [];
  });
}

/** Throughput, first-byte time, memory growth and Worker CPU of every variant that ran, for one object. */
export function addDownloadSection(report: Report, section: string, object: BenchObject, runs: Map<DownloadVariant, DownloadRun[]>): DownloadMedians {
  const medians: DownloadMedians = { bytes: object.size, mibps: {}, boundMibps: undefined, ttfbMs: {}, growthMib: {}, cpuMs: {} };
  const present = DOWNLOAD_VARIANTS.filter((variant) => (runs.get(variant.id)?.length ?? 0) > 0);
  for (const variant of present) {
    medians.mibps[variant.id] = addRow(
      report,
      section,
      variant.label,
      "MiB/s",
      (runs.get(variant.id) ?? []).map((run) => run.mibps),
    );
  }
  const bound = boundSamples(object, runs);
  if (bound.length > 0) medians.boundMibps = addRow(report, section, "bound: raw + native hash, one thread", "MiB/s", bound);
  for (const variant of present.filter((entry) => entry.body)) {
    medians.ttfbMs[variant.id] = addRow(
      report,
      section,
      `first byte, ${variant.label}`,
      "ms",
      (runs.get(variant.id) ?? []).map((run) => run.ttfbMs),
    );
  }
  for (const variant of present) {
    const variantRuns = runs.get(variant.id) ?? [];
    medians.growthMib[variant.id] = addRow(
      report,
      section,
      `memory growth, ${variant.label}`,
      "MiB",
      variantRuns.map((run) => run.growthMib),
    );
  }
  for (const variant of present) {
    medians.cpuMs[variant.id] = addRow(
      report,
      section,
      `gateway CPU, ${variant.label}`,
      "ms",
      (runs.get(variant.id) ?? []).map((run) => run.workerCpuMs),
    );
  }
  for (const variant of present.filter((entry) => entry.body)) {
    const variantRuns = runs.get(variant.id) ?? [];
    addRow(
      report,
      section,
      `busiest gateway thread, ${variant.label}`,
      "% of wall",
      variantRuns.map((run) => (100 * run.workerBusiestThreadMs) / run.totalMs),
    );
  }
  return medians;
}

/** Requests per second and latency percentiles of every auth variant and concurrency that ran; returns median req/s by key. */
export function addAuthSection(report: Report, section: string, runs: AuthRuns, concurrencies: readonly number[]): Map<string, number> {
  const rates = new Map<string, number>();
  for (const concurrency of concurrencies) {
    for (const variant of AUTH_VARIANTS) {
      const key = authKey(variant, concurrency);
      const results = runs.get(key);
      if (!results) continue;
      const label = `${AUTH_LABELS[variant]}, c${concurrency}`;
      rates.set(
        key,
        addRow(
          report,
          section,
          label,
          "req/s",
          results.map((result) => result.requestsPerSecond),
        ),
      );
      addRow(
        report,
        section,
        `${label}, p50`,
        "ms",
        results.map((result) => result.p50Ms),
      );
      addRow(
        report,
        section,
        `${label}, p99`,
        "ms",
        results.map((result) => result.p99Ms),
      );
    }
  }
  return rates;
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined ? Number.NaN : a / b;
}

/** The named download ratios (medians over medians), `prefix` marking the deployment (`aws_node_server_`). */
export function downloadRatios(medians: Record<string, number>, prefix: string, small: DownloadMedians, large: DownloadMedians | undefined): void {
  medians[`${prefix}download_verified_over_raw`] = ratio(small.mibps.verified, small.mibps.raw);
  medians[`${prefix}download_verified_over_bound`] = ratio(small.mibps.verified, small.boundMibps);
  if (large) {
    medians[`${prefix}download_verified_over_raw_1gib`] = ratio(large.mibps.verified, large.mibps.raw);
    medians[`${prefix}download_verified_over_bound_1gib`] = ratio(large.mibps.verified, large.boundMibps);
  }
  medians[`${prefix}download_verified_over_read_hash`] = ratio(small.mibps.verified, small.mibps["read-hash"]);
  medians[`${prefix}download_bound_over_raw`] = ratio(small.boundMibps, small.mibps.raw);
  medians[`${prefix}download_verified_mibps`] = small.mibps.verified ?? Number.NaN;
  medians[`${prefix}download_raw_mibps`] = small.mibps.raw ?? Number.NaN;
  medians[`${prefix}hash_native_mibps`] = small.mibps["hash-memory"] ?? Number.NaN;
  downloadCpu(medians, prefix, large ?? small);
}

/**
 * Gateway CPU per GiB of the largest object: the verified download against what any verified download must
 * spend, moving the bytes (the raw pass-through) plus hashing them (native SHA-256 from memory). Their
 * quotient is what the JavaScript chunk pipeline adds on top of that work.
 */
function downloadCpu(medians: Record<string, number>, prefix: string, object: DownloadMedians): void {
  const perGib = (ms: number | undefined) => (ms === undefined ? Number.NaN : (ms * GIB) / object.bytes);
  const verified = perGib(object.cpuMs.verified);
  const raw = perGib(object.cpuMs.raw);
  const hash = perGib(object.cpuMs["hash-memory"]);
  medians[`${prefix}download_cpu_ms_per_gib_verified`] = verified;
  medians[`${prefix}download_cpu_ms_per_gib_raw`] = raw;
  medians[`${prefix}download_cpu_ms_per_gib_hash`] = hash;
  medians[`${prefix}download_cpu_over_raw_plus_hash`] = verified / (raw + hash);
}

/**
 * Issue 18: the CLI's direct download (parallel Range GETs straight from storage, every chunk verified) against the
 * gateway's verified stream of the same object (`download_direct_over_gateway`), and the client's CPU per GiB for it
 * (`download_direct_client_cpu_ms_per_gib`).
 */
export function addDirectSection(report: Report, section: string, runs: DirectRuns): void {
  const gateway = addRow(report, section, "verified GET /v1/objects through the gateway", "MiB/s", runs.gatewayMibps);
  const direct = addRow(report, section, "get --direct: 4 Range GETs from storage, chunks verified, written, whole SHA-256", "MiB/s", runs.directMibps);
  report.medians.download_direct_over_gateway = ratio(direct, gateway);
  report.medians.download_direct_client_cpu_ms_per_gib = addRow(report, section, "client CPU per GiB, get --direct", "ms", runs.clientCpuMsPerGib);
}

/** The CLI process's one direct download of a multi-gigabyte object: `download_direct_<label>_mb_s` and its peak RSS. */
export function addDirectCliSection(report: Report, section: string, object: BenchObject, run: DirectCliRun): void {
  report.medians[`download_direct_${object.label}_mb_s`] = addRow(
    report,
    section,
    "verigate get --direct --parallel 4, whole process, SHA-256 checked",
    "MB/s",
    [run.mbps],
  );
  report.medians[`download_direct_${object.label}_client_peak_rss_mib`] = addRow(report, section, "peak RSS of the verigate process", "MiB", [run.peakRssMib]);
}

/** The named auth ratios: signed over unsigned request rates at each concurrency, and the claim alone at 10. */
export function authRatios(medians: Record<string, number>, prefix: string, rates: Map<string, number>): void {
  for (const concurrency of [1, 10]) {
    if (!rates.has(`signed/c${concurrency}`)) continue;
    medians[`${prefix}auth_signed_over_unsigned_c${concurrency}`] = ratio(rates.get(`signed/c${concurrency}`), rates.get(`unsigned/c${concurrency}`));
  }
  if (rates.has("claim/c10")) medians[`${prefix}auth_claim_over_unsigned_c10`] = ratio(rates.get("claim/c10"), rates.get("unsigned/c10"));
}

/**
 * The outcomes and peak RSS growth of one concurrent burst (one run: its counts are not samples), under the named
 * results `load_*_<build>`, and added into the totals `load_failed_uploads` and `load_shed` over both builds.
 */
export function addLoadSection(report: Report, build: "workers" | "node", label: string, plan: BurstPlan, burst: BurstResult): void {
  const section = `${label}, load: ${plan.uploads} verified PUTs + ${plan.downloads} verified GETs of ${plan.size / MIB} MiB at once (1 run)`;
  const m = report.medians;
  m[`load_rss_growth_mib_${build}`] = addRow(report, section, "peak RSS growth of the gateway process", "MiB", [burst.rssGrowthMib]);
  addRow(report, section, "uploads committed (201, reads back as the new bytes)", "count", [burst.committed]);
  addRow(report, section, "uploads shed (503 overloaded, previous version kept)", "count", [burst.shedUploads]);
  addRow(report, section, "  of which the 503 was lost to a connection reset", "count", [burst.unansweredShedUploads]);
  m[`load_failed_uploads_${build}`] = addRow(report, section, "uploads failed otherwise", "count", [burst.failedUploads]);
  addRow(report, section, "downloads whole and verified (200)", "count", [burst.downloaded]);
  addRow(report, section, "downloads shed (503 overloaded)", "count", [burst.shedDownloads]);
  m[`load_failed_downloads_${build}`] = addRow(report, section, "downloads failed otherwise", "count", [burst.failedDownloads]);
  m[`load_shed_${build}`] = burst.shedUploads + burst.shedDownloads;
  m.load_failed_uploads = (m.load_failed_uploads ?? 0) + burst.failedUploads;
  m.load_shed = (m.load_shed ?? 0) + burst.shedUploads + burst.shedDownloads;
}

/**
 * The Lambda handler's verified download against the Node server's raw S3 pass-through and read+hash bound of the same
 * object in the same run (no `/bench` route runs inside the function); `suffix` is "" for the smaller object, `_1gib`.
 */
export function lambdaDownloadRatios(medians: Record<string, number>, suffix: string, lambda: DownloadMedians, nodeServer: DownloadMedians | undefined): void {
  medians[`aws_lambda_download_verified_mibps${suffix}`] = lambda.mibps.verified ?? Number.NaN;
  medians[`aws_lambda_download_verified_over_raw${suffix}`] = ratio(lambda.mibps.verified, nodeServer?.mibps.raw);
  medians[`aws_lambda_download_verified_over_bound${suffix}`] = ratio(lambda.mibps.verified, nodeServer?.boundMibps);
}

/**
 * Session uploads against raw multipart uploads of the same parts (`upload_session_over_raw_multipart`), the CPU of
 * the complete calls per GiB (`complete_verify_cpu_ms_per_gib`), and the Worker's memory over a large session upload
 * and its verified download (`session_mem_*`).
 */
export function addSessionSection(
  report: Report,
  object: BenchObject,
  rounds: number,
  runs: SessionRuns,
  large: BenchObject,
  memory: Partial<Record<SessionMemoryOperation, { idleMib: number; overIdleMib: number }>>,
): void {
  const section = `Workers upload session, ${object.size / MIB} MiB (${rounds} rounds, parts of the gateway's size, ${PART_CONCURRENCY} in flight)`;
  const m = report.medians;
  const session = addRow(report, section, "session: create, parts, complete until committed", "MiB/s", runs.sessionMibps);
  const raw = addRow(report, section, "raw R2 multipart of the same parts", "MiB/s", runs.rawMibps);
  m.upload_session_over_raw_multipart = session / raw;
  m.complete_verify_cpu_ms_per_gib = addRow(report, section, "gateway CPU of the complete calls, per GiB", "ms", runs.completeCpuMsPerGib);
  addRow(report, section, "complete calls per upload", "count", runs.completeCalls);
  const memorySection = `Workers memory, ${large.size / MIB} MiB multipart object, each operation in a fresh warmed workerd (1 run each; local R2 holds a multipart object in memory while reading it)`;
  const overIdle = (operation: SessionMemoryOperation) => memory[operation]?.overIdleMib ?? Number.NaN;
  const row = (operation: SessionMemoryOperation, label: string) =>
    addRow(report, memorySection, `peak over idle (${memory[operation]?.idleMib.toFixed(0)} MiB), ${label}`, "MiB", [overIdle(operation)]);
  const sessionUpload = row("session-upload", "session upload (parts, complete)");
  const rawUpload = row("raw-multipart-upload", "raw R2 multipart upload of the same parts");
  const verified = row("verified-download", "verified download");
  const rawDownload = row("raw-download", "raw pass-through download");
  m.session_mem_upload_over_raw_mib = sessionUpload - rawUpload;
  m.session_mem_download_over_raw_mib = verified - rawDownload;
}

/**
 * Verified downloads of the same bytes stored plain and stored encrypted, alternated in one run: throughput
 * (`download_encrypted_over_plain`, the target >= 0.7x), the Worker's CPU per GiB of each, and its memory
 * growth over the RSS before each request (docs/ENCRYPTION.md "Read-path memory").
 */
export function addEncryptedDownloadSection(report: Report, object: BenchObject, rounds: number, runs: EncryptedDownloadRuns): void {
  const section = `Workers encrypted download, ${object.size / MIB} MiB, plain and encrypting Worker alternated (${rounds} rounds)`;
  const m = report.medians;
  const perGib = (run: DownloadRun) => run.workerCpuMs * (GIB / object.size);
  const plain = addRow(
    report,
    section,
    "verified GET, stored plain",
    "MiB/s",
    runs.plain.map((run) => run.mibps),
  );
  const encrypted = addRow(
    report,
    section,
    "verified GET, stored encrypted",
    "MiB/s",
    runs.encrypted.map((run) => run.mibps),
  );
  m.download_encrypted_over_plain = encrypted / plain;
  m.download_cpu_ms_per_gib_plain = addRow(report, section, "gateway CPU per GiB, stored plain", "ms", runs.plain.map(perGib));
  m.download_cpu_ms_per_gib_encrypted = addRow(report, section, "gateway CPU per GiB, stored encrypted", "ms", runs.encrypted.map(perGib));
  m.mem_growth_mib_download_plain = addRow(
    report,
    section,
    "peak over the RSS before the request, stored plain",
    "MiB",
    runs.plain.map((run) => run.growthMib),
  );
  m.mem_growth_mib_download_encrypted = addRow(
    report,
    section,
    "peak over the RSS before the request, stored encrypted",
    "MiB",
    runs.encrypted.map((run) => run.growthMib),
  );
}
