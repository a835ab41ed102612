import type { LogLevel, Logger } from "../../shared/log.ts";

/** One call of the logger, as the gateway made it. */
export interface LogEntry {
  level: LogLevel;
  event: string;
  fields: Record<string, unknown>;
}

/** One structured line as `consoleLogger` prints it (`shared/log.ts`): `level`, `event`, `time` and the event's fields. */
export type LogLine = Record<string, unknown> & { level: string; event: string };

/**
 * The one logger tests hand the gateway: it keeps every call, so a test can assert on events and check that
 * detail stays out of responses, and it can give them back as the JSON lines a runtime prints.
 */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  readonly #times: string[] = [];

  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ level, event, fields });
    this.#times.push(new Date().toISOString());
  }

  /** The calls that logged `event`. */
  events(event: string): LogEntry[] {
    return this.entries.filter((entry) => entry.event === event);
  }

  /** Every call (or those that logged `event`) as the line `consoleLogger` prints, undefined fields dropped. */
  lines(event?: string): LogLine[] {
    return this.entries
      .map((entry, i) => JSON.parse(JSON.stringify({ level: entry.level, event: entry.event, time: this.#times[i], ...entry.fields })) as LogLine)
      .filter((line) => event === undefined || line.event === event);
  }
}
