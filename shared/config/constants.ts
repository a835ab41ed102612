import { KIB, MIB } from "../bytes.ts";

/** Defaults of PROTOCOL section 7, each with its unit in the name. */

/** Hosts' clocks drift; zero tolerance made 1-second flakiness between machines in other implementations. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
/** Long enough for a slow client to sign then send, short enough that a captured request soon goes stale. */
export const DEFAULT_MAX_SIGNATURE_AGE_SECONDS = 300;
export const DEFAULT_MAX_OBJECT_BYTES = 100 * MIB;
/** 1 MiB: one native digest call amortises its overhead while a chunk stays small next to worker memory. */
export const DEFAULT_CHUNK_SIZE_BYTES = MIB;
export const MIN_CHUNK_SIZE_BYTES = 64 * KIB;
export const MAX_CHUNK_SIZE_BYTES = 16 * MIB;
export const DEFAULT_PRESIGN_MAX_SECONDS = 3600;
/** HMAC keys shorter than the hash output weaken the MAC (RFC 2104 section 3). */
export const MIN_PRESIGN_SECRET_BYTES = 32;
/**
 * 64 MiB of chunk buffers per isolate or process: 32 data requests at the default 1 MiB chunk (two buffers each).
 * Sized for a Workers isolate's 128 MB, half of which is left to the runtime, the code and everything a request
 * holds besides its chunks (measured per request in bench/measures/load.ts); a Node server may raise it.
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * MIB;
