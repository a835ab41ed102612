/**
 * Structured log lines: one JSON object per line on stdout, which Workers Logs, CloudWatch and
 * `wrangler dev` all index. Error detail goes here, under the request id, and never to a client.
 */
export type LogLevel = "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

export const consoleLogger: Logger = {
  log(level, event, fields = {}) {
    const line = JSON.stringify({ level, event, time: new Date().toISOString(), ...fields });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  },
};

/** A thrown value as loggable fields, stack included: the log is the only place it may go. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return { error_name: error.name, error_message: error.message, stack: error.stack, cause: error.cause === undefined ? undefined : String(error.cause) };
  }
  return { error_message: String(error) };
}
