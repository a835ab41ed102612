import { type AwsRuntime, awsProblems, LAMBDA_MAX_PUT_BYTES } from "./aws.ts";
import type { ConfigProblem, ConfigWarning } from "./problems.ts";
import { parseVariables, type Runtime, type Settings, type Vars } from "./variables.ts";
import { warningsOf } from "./warnings.ts";
import { WORKERS_BINDINGS, workersProblems } from "./workers.ts";

export type { AdminKey } from "./admin-keys.ts";
export type { EncryptionSettings } from "./encryption.ts";
export { type ConfigProblem, type ConfigWarning, isPresignStorageWarning } from "./problems.ts";
export type { AuthMode, Runtime, S3Settings, Vars } from "./variables.ts";

/** The validated, frozen configuration. Built once per isolate, Lambda environment or Node process. */
export interface Config extends Settings {
  /** Codes that make the gateway refuse to serve (503 `misconfigured`). Empty when healthy. */
  problems: readonly ConfigProblem[];
  /** Codes of missing settings that only some routes need; those routes refuse while the rest serve. */
  warnings: readonly ConfigWarning[];
}

/**
 * What only an entry file can see of its runtime, as plain facts (never a binding or an SDK object), so that this
 * folder stays runtime-neutral: on Workers, the names of the bindings it found.
 */
export type RuntimeFacts = { runtime: "workers"; bindings: readonly string[] } | { runtime: AwsRuntime };

/** Every check of the configuration, in one place: the variables, then what the runtime adds to them. */
export function loadConfig(vars: Vars, facts: RuntimeFacts): Readonly<Config> {
  const problems: ConfigProblem[] = [];
  const settings = parseVariables(vars, facts.runtime, problems);
  problems.push(...(facts.runtime === "workers" ? workersProblems(settings, facts.bindings) : awsProblems(settings, facts.runtime)));
  const maxObjectBytes = facts.runtime === "lambda" ? Math.min(settings.maxObjectBytes, LAMBDA_MAX_PUT_BYTES) : settings.maxObjectBytes;
  return deepFreeze({ ...settings, maxObjectBytes, problems, warnings: warningsOf(settings, problems) });
}

/** The configuration of `runtime` with every Workers binding in place: what tests build gateways on. */
export function parseConfig(vars: Vars, runtime: Runtime): Readonly<Config> {
  return loadConfig(vars, runtime === "workers" ? { runtime, bindings: WORKERS_BINDINGS } : { runtime });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
