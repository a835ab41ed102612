import type { ParseArgsOptionsConfig } from "node:util";
import type { VerigateClient } from "../sdk/client.ts";
import { VerigateUsageError } from "../sdk/errors.ts";

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command runs with; results go to stdout, messages and progress to stderr. */
export interface Invocation {
  args: string[];
  options: OptionValues;
  /** Print results as JSON, for scripts. */
  json: boolean;
  /** The client for the endpoint and key of the flags or environment; built on first use, as keygen needs none. */
  client(): Promise<VerigateClient>;
  out(text: string): void;
  warn(text: string): void;
}

export interface Command {
  /** Arguments and command options, after the command name. */
  usage: string;
  summary: string;
  /** Bounds on the number of positional arguments. */
  args: readonly [min: number, max: number];
  options?: ParseArgsOptionsConfig;
  run(invocation: Invocation): Promise<void>;
}

export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  return typeof value === "string" ? value : undefined;
}

export function stringsOption(options: OptionValues, name: string): string[] {
  const value = options[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** A whole number option, or undefined when absent; anything else is a usage error naming the option. */
export function integerOption(options: OptionValues, name: string, text = stringOption(options, name)): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) throw new VerigateUsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** A size option in bytes (`6291456`, `6MiB`, `6M`, `512KiB`), or undefined when absent; anything else is a usage error. */
export function sizeOption(options: OptionValues, name: string): number | undefined {
  const text = stringOption(options, name);
  if (text === undefined) return undefined;
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? ""];
  if (match === null || unit === undefined) throw new VerigateUsageError(`--${name} must be a size in bytes, KiB, MiB or GiB, got ${JSON.stringify(text)}`);
  return Number(match[1]) * unit;
}

/** Prints `value` as JSON, or as `label  value` lines aligned for people. */
export function printFields(invocation: Invocation, value: unknown, fields: [label: string, text: string][]): void {
  if (invocation.json) {
    invocation.out(JSON.stringify(value, null, 2));
    return;
  }
  const width = Math.max(...fields.map(([label]) => label.length));
  for (const [label, text] of fields) invocation.out(`${label.padEnd(width)}  ${text}`);
}
