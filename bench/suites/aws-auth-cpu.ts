import { AUTH_LABELS, AUTH_VARIANTS, type AuthRuns, authKey } from "../measures/auth.ts";
import type { Report } from "../report/report.ts";
import { addRow } from "../report/rows.ts";

/** Only concurrency 10 gets named results: the auth target (issue 13) is set there. */
const NAMED_CONCURRENCY = 10;

/**
 * Where an auth request's CPU goes on the AWS builds, per process and per request: the gateway (the Node server, or
 * the Function URL stand-in with its execution environments), dynalite (with s3rver, idle here) and this benchmark's
 * client, which signs every signed request. All three share the machine's cores, so together they bound the signed
 * rate: a ratio target the gateway alone cannot reach shows here. Named `<prefix>auth_cpu_ms_<process>_<variant>_c10`.
 */
export function addAuthCpuRows(report: Report, section: string, prefix: string, runs: AuthRuns, concurrencies: readonly number[]): void {
  for (const concurrency of concurrencies) {
    for (const variant of AUTH_VARIANTS) {
      const results = runs.get(authKey(variant, concurrency))?.flatMap((result) => (result.cpu ? [result.cpu] : []));
      if (!results?.length) continue;
      const label = `${AUTH_LABELS[variant]}, c${concurrency}`;
      const perProcess = {
        gateway: results.map((cpu) => cpu.gateway),
        store: results.flatMap((cpu) => (cpu.store === undefined ? [] : [cpu.store])),
        client: results.map((cpu) => cpu.client),
      };
      for (const [name, samples] of Object.entries(perProcess)) {
        if (samples.length === 0) continue;
        const median = addRow(report, section, `${label}, ${name} CPU per request`, "ms", samples);
        if (concurrency === NAMED_CONCURRENCY) report.medians[`${prefix}auth_cpu_ms_${name}_${variant}_c${concurrency}`] = median;
      }
    }
  }
}
