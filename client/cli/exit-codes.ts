import { VerigateApiError, VerigateIntegrityError, VerigateUsageError } from "../sdk/errors.ts";

/** The CLI's exit codes; client/README.md documents them for scripts, so they never change meaning. */
export const EXIT_OK = 0;
/** Bad arguments, missing endpoint or key, unreadable key file contents: nothing was sent. */
export const EXIT_USAGE = 1;
/** The gateway refused the request; its problem+json code and request id are printed. */
export const EXIT_API_ERROR = 2;
/**
 * Bytes could not be verified (digest or length mismatch, cut response, or the gateway's own `integrity_failure`);
 * the target file was not written (`get` keeps a cut download in `<file>.partial` for the next run).
 */
export const EXIT_INTEGRITY = 3;
/** The gateway could not be reached, or a local file could not be read or written. */
export const EXIT_NETWORK_IO = 4;
/** 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C (or SIGTERM, handled alike). */
export const EXIT_INTERRUPTED = 130;

/** Every exit code and its meaning in one line, for `--help`; client/README.md's table says the same at length. */
export const EXIT_CODE_MEANINGS: readonly [code: number, meaning: string][] = [
  [EXIT_OK, "success"],
  [EXIT_USAGE, "usage: bad arguments, no endpoint or key, an unusable key file; nothing was sent"],
  [
    EXIT_API_ERROR,
    "the gateway refused the request (its code and request id are printed); a file too large for an upload session is refused before any byte is sent",
  ],
  [
    EXIT_INTEGRITY,
    "integrity failure: the bytes did not match their digest or length, or the download was cut; the target file was not written (get --direct names the chunk)",
  ],
  [EXIT_NETWORK_IO, "network or file error"],
  [EXIT_INTERRUPTED, "interrupted (Ctrl-C): get keeps what arrived in <file>.partial, put in parts its upload session, for the next run"],
];

export function exitCodeOf(error: unknown): number {
  if (error instanceof VerigateUsageError || isParseArgsError(error)) return EXIT_USAGE;
  if (error instanceof VerigateIntegrityError) return EXIT_INTEGRITY;
  if (error instanceof VerigateApiError) return error.code === "integrity_failure" ? EXIT_INTEGRITY : EXIT_API_ERROR;
  return EXIT_NETWORK_IO;
}

/**
 * What to try next for the refusals the gateway answers without a detail on purpose: `signature_invalid` is one
 * answer for an unknown key, a revoked one and a bad signature, so that key existence is not revealed.
 */
const NEXT_STEP: Readonly<Partial<Record<string, string>>> = {
  signature_invalid:
    "check that the gateway knows this key: `verigate whoami` with it; an admin registers a key with `verigate keys add` (a revoked keyid is never reused)",
  signature_expired: "check this machine's clock, or pass --clock-offset",
  signature_not_yet_valid: "check this machine's clock, or pass --clock-offset",
};

/** One line for stderr; a network error names its cause, which `fetch` hides behind "fetch failed". */
export function describeFailure(error: unknown): string {
  if (error instanceof VerigateApiError && error.code === "integrity_failure") return `${error.message}; nothing was written`;
  if (error instanceof VerigateApiError && NEXT_STEP[error.code]) return `${error.message}\nverigate: hint: ${NEXT_STEP[error.code]}`;
  if (error instanceof VerigateIntegrityError) return `integrity failure (${error.reason}): ${error.message}; the target file was not written`;
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof Error && "code" in error && typeof error.code === "string" && error.code.startsWith("ERR_PARSE_ARGS_");
}
