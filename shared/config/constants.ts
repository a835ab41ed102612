import { GIB, KIB, MIB } from "../bytes.ts";

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

/** 5 TiB: the largest object R2 and S3 hold, so by default a session takes whatever the store can. */
export const DEFAULT_MAX_UPLOAD_SESSION_BYTES = 5 * 1024 * GIB;
/** The smallest part but the last that R2 and S3 accept, and the largest part either takes. */
export const MIN_UPLOAD_PART_BYTES = 5 * MIB;
export const MAX_UPLOAD_PART_BYTES = 5 * GIB;
/** 16 MiB: few enough requests per GiB, small enough that a part resent after a cut connection costs little. */
export const DEFAULT_UPLOAD_PART_BYTES = 16 * MIB;
/** A day to upload and complete; the session and its parts are swept after it. */
export const DEFAULT_UPLOAD_SESSION_SECONDS = 86_400;
export const MIN_UPLOAD_SESSION_SECONDS = 60;
/** 6 days: under R2's 7-day abort of stale multipart uploads, so a live session never loses its parts to it. */
export const MAX_UPLOAD_SESSION_SECONDS = 6 * 86_400;
/**
 * 4 GiB verified per complete call. The whole-object hash is pure JS (resumable): 84 to 117 MiB/s measured on Node on a
 * shared 2-core machine at load 6.6 (native SHA-256 0.8 to 1.1 GiB/s), so about 40 s of CPU per call, well inside
 * wrangler.toml's `cpu_ms` of 300 s, and a 5 TiB object in some 1,300 calls.
 */
export const DEFAULT_COMPLETE_SLICE_BYTES = 4 * GIB;
