import { VerigateApiError, VerigateIntegrityError, VerigateUsageError } from "../sdk/errors.ts";

/** The CLI's exit codes; client/README.md documents them for scripts, so they never change meaning. */
export const EXIT_OK = 0;
/** Bad arguments, missing endpoint or key, unreadable key file contents: nothing was sent. */
export const EXIT_USAGE = 1;
/** The gateway refused the request; its problem+json code and request id are printed. */
export const EXIT_API_ERROR = 2;
/** Bytes could not be verified (digest or length mismatch, cut response, or the gateway's own `integrity_failure`); nothing was written. */
export const EXIT_INTEGRITY = 3;
/** The gateway could not be reached, or a local file could not be read or written. */
export const EXIT_NETWORK_IO = 4;
/** 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

/** Every exit code and its meaning in one line, for `--help`; client/README.md's table says the same at length. */
export const EXIT_CODE_MEANINGS: readonly [code: number, meaning: string][] = [
  [EXIT_OK, "success"],
  [EXIT_USAGE, "usage: bad arguments, no endpoint or key, an unusable key file; nothing was sent"],
  [EXIT_API_ERROR, "the gateway refused the request (its code and request id are printed), or would have: put checks the size limit first"],
  [EXIT_INTEGRITY, "integrity failure: the bytes did not match their digest or length; nothing was written"],
  [EXIT_NETWORK_IO, "network or file error"],
  [EXIT_INTERRUPTED, "interrupted (Ctrl-C) during a download; the temporary file was removed"],
];

export function exitCodeOf(error: unknown): number {
  if (error instanceof VerigateUsageError || isParseArgsError(error)) return EXIT_USAGE;
  if (error instanceof VerigateIntegrityError) return EXIT_INTEGRITY;
  if (error instanceof VerigateApiError) return error.code === "integrity_failure" ? EXIT_INTEGRITY : EXIT_API_ERROR;
  return EXIT_NETWORK_IO;
}

/** One line for stderr; a network error names its cause, which `fetch` hides behind "fetch failed". */
export function describeFailure(error: unknown): string {
  if (error instanceof VerigateApiError && error.code === "integrity_failure") return `${error.message}; nothing was written`;
  if (error instanceof VerigateIntegrityError) return `integrity failure (${error.reason}): ${error.message}; nothing was written`;
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof Error && "code" in error && typeof error.code === "string" && error.code.startsWith("ERR_PARSE_ARGS_");
}
