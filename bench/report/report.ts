import type { Summary } from "./stats.ts";

/** One measured quantity, summarized over its interleaved rounds. */
export interface Row {
  section: string;
  label: string;
  unit: string;
  summary: Summary;
}

export interface Target {
  claim: string;
  pass: boolean;
  /** The measured figures the verdict rests on. */
  measured: string;
}

export interface Report {
  rows: Row[];
  /** The named medians runs are compared by over time (ratios use medians). */
  medians: Record<string, number>;
  targets: Target[];
  /** Sections that did not run, with the reason. */
  skipped: string[];
}

export function emptyReport(): Report {
  return { rows: [], medians: {}, targets: [], skipped: [] };
}

function figure(value: number): string {
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** The printed table: every row's min/median/max, then the named ratios, then each target's verdict. */
export function formatReport(report: Report, header: string[]): string {
  const lines = [...header, ""];
  const labelWidth = Math.max(...report.rows.map((row) => row.label.length + row.unit.length + 3), 40);
  let section = "";
  for (const row of report.rows) {
    if (row.section !== section) {
      section = row.section;
      lines.push(`${section}`, `  ${"".padEnd(labelWidth)} ${"min".padStart(9)} ${"median".padStart(9)} ${"max".padStart(9)}  n`);
    }
    const { min, median, max, samples } = row.summary;
    lines.push(
      `  ${`${row.label} (${row.unit})`.padEnd(labelWidth)} ${figure(min).padStart(9)} ${figure(median).padStart(9)} ${figure(max).padStart(9)}  ${samples.length}`,
    );
  }
  lines.push("", "Named medians (bench/results.json)");
  const nameWidth = Math.max(...Object.keys(report.medians).map((name) => name.length), 44);
  for (const [name, value] of Object.entries(report.medians)) lines.push(`  ${name.padEnd(nameWidth)} ${figure(value)}`);
  lines.push("", "Targets");
  for (const target of report.targets) lines.push(`  ${target.pass ? "PASS" : "MISS"}  ${target.claim}: ${target.measured}`);
  for (const skipped of report.skipped) lines.push(`  SKIP  ${skipped}`);
  return lines.join("\n");
}
