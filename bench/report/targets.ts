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

/** The targets, each judged on the named medians. */
export function workersTargets(m: Medians): Target[] {
  const ttfbAllowance = (m.ttfb_raw_ms ?? 0) + (m.chunk_hash_ms ?? 0);
  const growthSmall = m.mem_growth_mib_256mib ?? Number.NaN;
  const growthLarge = m.mem_growth_mib_1gib ?? Number.NaN;
  const growthSpread = Math.abs(growthLarge - growthSmall) / Math.max(growthSmall, growthLarge);
  return [
    atLeast("verified download >= 0.5x raw ceiling", m, ["download_verified_over_raw", "download_verified_over_raw_1gib"], 0.5),
    atLeast("verified download within 10% of the single-thread read+hash bound", m, ["download_verified_over_bound", "download_verified_over_bound_1gib"], 0.9),
    {
      claim: "TTFB of a verified 256 MiB download <= raw TTFB + one chunk's hashing",
      pass: (m.ttfb_verified_ms ?? Number.POSITIVE_INFINITY) <= ttfbAllowance,
      measured: `${(m.ttfb_verified_ms ?? Number.NaN).toFixed(2)} ms vs ${(m.ttfb_raw_ms ?? Number.NaN).toFixed(2)} + ${(m.chunk_hash_ms ?? Number.NaN).toFixed(2)} = ${ttfbAllowance.toFixed(2)} ms`,
    },
    atLeast("TTFB of a verified 256 MiB download >= 50x better than buffer-then-verify", m, ["ttfb_buffered_over_verified"], 50),
    {
      claim: "peak memory growth serving a 1 GiB verified download <= 64 MiB",
      pass: growthLarge <= 64,
      measured: `${growthLarge.toFixed(1)} MiB`,
    },
    {
      claim: "verified download memory growth for 256 MiB and 1 GiB within 10% of each other",
      pass: growthSpread <= 0.1,
      measured: `${growthSmall.toFixed(1)} MiB vs ${growthLarge.toFixed(1)} MiB (${(100 * growthSpread).toFixed(1)}% apart)`,
    },
    atLeast("verified upload >= 0.9x raw put", m, ["upload_verified_over_raw"], 0.9),
    atLeast("signed+replay-checked requests >= 0.4x the unsigned rate at concurrency 10", m, ["auth_signed_over_unsigned_c10"], 0.4),
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
      "AWS Node server: verified download within 10% of the read+hash bound",
      m,
      ["aws_node_server_download_verified_over_bound", "aws_node_server_download_verified_over_bound_1gib"],
      0.9,
    ),
    atLeast("AWS Node server: signed+replay-checked >= 0.4x unsigned at concurrency 10", m, ["aws_node_server_auth_signed_over_unsigned_c10"], 0.4),
  ];
}

/** The real Lambda handler behind the loopback Function URL: auth at concurrency 10 (downloads are measured, not targeted). */
export function awsLambdaTargets(m: Medians): Target[] {
  return [atLeast("AWS Lambda handler: signed+replay-checked >= 0.4x unsigned at concurrency 10", m, ["aws_lambda_auth_signed_over_unsigned_c10"], 0.4)];
}
