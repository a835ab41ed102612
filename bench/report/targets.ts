import type { Target } from "./report.ts";

type Medians = Record<string, number>;

function x(value: number): string {
  return `${value.toFixed(2)}x`;
}

function atLeast(claim: string, medians: Medians, names: string[], floor: number): Target {
  const present = names.filter((name) => medians[name] !== undefined);
  const values = present.map((name) => medians[name] as number);
  return {
    claim,
    pass: values.length > 0 && values.every((value) => value >= floor),
    measured: present.map((name, index) => `${name} ${x(values[index] as number)}`).join(", ") + ` (target >= ${x(floor)})`,
  };
}

/** No upload lost under load on `build`, and its gateway's peak RSS growth within `maxGrowthMib`. */
function loadTargets(m: Medians, build: "workers" | "node", name: string, maxGrowthMib: number, why: string): Target[] {
  const failed = m[`load_failed_uploads_${build}`];
  const growth = m[`load_rss_growth_mib_${build}`] ?? Number.NaN;
  if (failed === undefined) return [];
  return [
    {
      claim: `${name}: under load every upload commits, or is shed and leaves the previous version`,
      pass: failed === 0 && m[`load_failed_downloads_${build}`] === 0,
      measured: `${failed} uploads and ${m[`load_failed_downloads_${build}`] ?? Number.NaN} downloads failed beyond ${m[`load_shed_${build}`] ?? Number.NaN} shed`,
    },
    {
      claim: `${name}: peak RSS growth under load <= ${maxGrowthMib} MiB (${why})`,
      pass: growth <= maxGrowthMib,
      measured: `${growth.toFixed(1)} MiB`,
    },
  ];
}

/**
 * Twice the 64 MiB default budget: it counts chunk buffers only, while sockets, storage clients and the garbage the
 * collector has not yet returned come on top (1.8 MiB per in-flight transfer measured on the Node server).
 */
const LOAD_GROWTH_NODE_MIB = 128;
/** workerd under `wrangler dev` also runs the local R2, KV and Durable Object simulators, whose memory this RSS includes. */
const LOAD_GROWTH_WORKERS_MIB = 256;

/** Issue 13: a verified download's first byte may come this much later than the raw pass-through's. */
const TTFB_ALLOWANCE_MS = 2;
/** Issue 13: peak memory over idle serving a 1 GiB verified download (a few chunk buffers, not the object). */
const MEM_GROWTH_CEILING_MIB = 32;
/** Issue 12: the large object of the session memory phase (the full plan's `sessionLarge`). */
const SESSION_MEMORY_LABEL = "2 GiB (quick run: 64 MiB)";
/** Issue 13: verified download throughput against the one-thread read+hash bound. */
const BOUND_FLOOR = 0.95;
/** Issue 13: gateway CPU per verified GiB against raw pass-through CPU plus native hash CPU. */
const CPU_OVER_RAW_PLUS_HASH_CEILING = 1.1;

/** Issue 18: a direct download must be at least as fast as the gateway's verified stream ("at the speed of the store"). */
const DIRECT_OVER_GATEWAY_FLOOR = 1;
/** Issue 18's targets, when the direct download rows ran. */
function directTargets(m: Medians): Target[] {
  if (m.download_direct_over_gateway === undefined) return [];
  const cpu = m.download_direct_client_cpu_ms_per_gib ?? Number.NaN;
  const gateway = m.aws_node_server_download_cpu_ms_per_gib_verified ?? Number.NaN;
  return [
    atLeast(
      "AWS Node server: get --direct (parallel verified Range GETs from storage) >= 1x the gateway's verified stream of the same object",
      m,
      ["download_direct_over_gateway"],
      DIRECT_OVER_GATEWAY_FLOOR,
    ),
    {
      // The work moves from the gateway to the client (chunk digests, then the whole SHA-256 read back from disk): it
      // must not cost more there than the gateway spends verifying the same GiB.
      claim: "client CPU per GiB of get --direct <= the gateway's CPU per GiB of the verified stream",
      pass: cpu <= gateway,
      measured: `download_direct_client_cpu_ms_per_gib ${cpu.toFixed(0)} ms vs aws_node_server_download_cpu_ms_per_gib_verified ${gateway.toFixed(0)} ms`,
    },
  ];
}

/** The issues' targets, each judged on the named medians. */
export function workersTargets(m: Medians): Target[] {
  const ttfbAllowance = (m.ttfb_raw_ms ?? Number.NaN) + TTFB_ALLOWANCE_MS;
  const growthSmall = m.mem_growth_mib_256mib ?? Number.NaN;
  const growthLarge = m.mem_growth_mib_1gib ?? Number.NaN;
  const growthSpread = Math.abs(growthLarge - growthSmall) / Math.max(growthSmall, growthLarge);
  const cpuRatio = m.download_cpu_over_raw_plus_hash ?? Number.NaN;
  return [
    atLeast("verified download >= 0.5x raw ceiling", m, ["download_verified_over_raw", "download_verified_over_raw_1gib"], 0.5),
    atLeast(
      "verified download >= 0.95x the single-thread read+hash bound",
      m,
      ["download_verified_over_bound", "download_verified_over_bound_1gib"],
      BOUND_FLOOR,
    ),
    {
      claim: `gateway CPU per verified GiB <= ${x(CPU_OVER_RAW_PLUS_HASH_CEILING)} (raw pass-through CPU + native hash CPU)`,
      pass: cpuRatio <= CPU_OVER_RAW_PLUS_HASH_CEILING,
      measured: `${(m.download_cpu_ms_per_gib_verified ?? Number.NaN).toFixed(0)} ms vs ${(m.download_cpu_ms_per_gib_raw ?? Number.NaN).toFixed(0)} + ${(m.download_cpu_ms_per_gib_hash ?? Number.NaN).toFixed(0)} ms: download_cpu_over_raw_plus_hash ${x(cpuRatio)}`,
    },
    {
      claim: `TTFB of a verified 256 MiB download <= raw TTFB + ${TTFB_ALLOWANCE_MS} ms`,
      pass: (m.ttfb_verified_ms ?? Number.POSITIVE_INFINITY) <= ttfbAllowance,
      measured: `${(m.ttfb_verified_ms ?? Number.NaN).toFixed(2)} ms vs ${(m.ttfb_raw_ms ?? Number.NaN).toFixed(2)} + ${TTFB_ALLOWANCE_MS} = ${ttfbAllowance.toFixed(2)} ms`,
    },
    atLeast("TTFB of a verified 256 MiB download >= 50x better than buffer-then-verify", m, ["ttfb_buffered_over_verified"], 50),
    atLeast("encrypted verified download >= 0.7x plain verified download (issue 15)", m, ["download_encrypted_over_plain"], 0.7),
    {
      claim: `peak memory growth serving a 1 GiB verified download <= ${MEM_GROWTH_CEILING_MIB} MiB`,
      pass: growthLarge <= MEM_GROWTH_CEILING_MIB,
      measured: `${growthLarge.toFixed(1)} MiB`,
    },
    {
      claim: "verified download memory growth for 256 MiB and 1 GiB within 10% of each other",
      pass: growthSpread <= 0.1,
      measured: `${growthSmall.toFixed(1)} MiB vs ${growthLarge.toFixed(1)} MiB (${(100 * growthSpread).toFixed(1)}% apart)`,
    },
    atLeast("verified upload >= 0.9x raw put", m, ["upload_verified_over_raw"], 0.9),
    atLeast("session upload (verified on complete) >= 0.8x raw multipart of the same parts", m, ["upload_session_over_raw_multipart"], 0.8),
    {
      claim: `Workers memory of a ${SESSION_MEMORY_LABEL} session upload and its verified download, beyond the raw multipart upload and raw download of the same object, <= ${MEM_GROWTH_CEILING_MIB} MiB (flat)`,
      pass: Math.max(m.session_mem_upload_over_raw_mib ?? Number.NaN, m.session_mem_download_over_raw_mib ?? Number.NaN) <= MEM_GROWTH_CEILING_MIB,
      measured: `upload ${(m.session_mem_upload_over_raw_mib ?? Number.NaN).toFixed(1)} MiB, download ${(m.session_mem_download_over_raw_mib ?? Number.NaN).toFixed(1)} MiB over raw`,
    },
    atLeast("signed+replay-checked requests >= 0.4x the unsigned rate at concurrency 10", m, ["auth_signed_over_unsigned_c10"], 0.4),
    ...loadTargets(m, "workers", "Workers", LOAD_GROWTH_WORKERS_MIB, "workerd's RSS, local storage simulators included"),
  ];
}

/** The same download and auth targets for the AWS backends on the Node server. */
export function awsNodeServerTargets(m: Medians): Target[] {
  return [
    atLeast(
      "AWS Node server: verified download >= 0.5x raw S3 pass-through",
      m,
      ["aws_node_server_download_verified_over_raw", "aws_node_server_download_verified_over_raw_1gib"],
      0.5,
    ),
    atLeast(
      "AWS Node server: verified download >= 0.95x the read+hash bound",
      m,
      ["aws_node_server_download_verified_over_bound", "aws_node_server_download_verified_over_bound_1gib"],
      BOUND_FLOOR,
    ),
    atLeast("AWS Node server: signed+replay-checked >= 0.4x unsigned at concurrency 10", m, ["aws_node_server_auth_signed_over_unsigned_c10"], 0.4),
    ...loadTargets(m, "node", "AWS Node server", LOAD_GROWTH_NODE_MIB, "twice the default in-flight budget"),
    ...directTargets(m),
  ];
}

/** The real Lambda handler behind the loopback Function URL: auth at concurrency 10 (downloads are measured, not targeted). */
export function awsLambdaTargets(m: Medians): Target[] {
  return [atLeast("AWS Lambda handler: signed+replay-checked >= 0.4x unsigned at concurrency 10", m, ["aws_lambda_auth_signed_over_unsigned_c10"], 0.4)];
}
