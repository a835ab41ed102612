import { Presets, SingleBar } from "cli-progress";
import { MIB } from "../../shared/bytes.ts";

/** Below this a transfer takes about a second on a slow link: a bar would only flicker. */
const PROGRESS_MIN_BYTES = 4 * MIB;

export interface Progress {
  advance(bytes: number): void;
  stop(): void;
}

const SILENT: Progress = { advance: () => {}, stop: () => {} };

/** A bar on stderr for a transfer of `totalBytes`; silent when stderr is not a terminal or the transfer is small. */
export function transferProgress(label: string, totalBytes: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || totalBytes < PROGRESS_MIN_BYTES) return SILENT;
  const bar = new SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MiB | ETA {eta_formatted}`,
      formatValue: (value, _options, type) => (type === "value" || type === "total" ? (value / MIB).toFixed(1) : String(value)),
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  bar.start(totalBytes, 0);
  return {
    advance: (bytes) => bar.increment(bytes),
    stop: () => bar.stop(),
  };
}
