import type { Context, MiddlewareHandler } from "hono";
import type { StreamRuntime } from "../../shared/streams/index.ts";
import type { AppEnv } from "../context.ts";
import { problem } from "./problems.ts";

/**
 * What one data request holds at most, in chunks: a download writes one verified chunk while it reads and
 * verifies the next (shared/objects/download.ts); an upload hashes and stores one chunk while the next arrives.
 */
const BUFFERED_CHUNKS_PER_REQUEST = 2;
/** Admitted transfers of a few chunks finish within a second or so; a shed client need not wait longer. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Sheds data requests with 503 `overloaded` and Retry-After once the chunk buffers of the requests in flight
 * would pass `MAX_IN_FLIGHT_BYTES`: a per-client rate limit bounds one client's rate, not the memory that all of
 * them hold at once. One counter per app, so per Node process and per Workers isolate (the entry files build
 * the app once); on Lambda each environment serves one request at a time, which is always admitted.
 *
 * A request is charged `BUFFERED_CHUNKS_PER_REQUEST` chunks, or a PUT its declared Content-Length when that is
 * smaller, from before its signature is checked until its response body has been written out (or given up). Mounted before the
 * signature check on purpose: a shed request has read no body byte and spent no replay claim, so the client may
 * send the very same signed request again, and an unsigned flood is still charged only until its 401.
 * When nothing is in flight a request is admitted whatever its charge, so a small budget slows but never starves.
 */
export function limitInFlight(): MiddlewareHandler<AppEnv> {
  let inFlightBytes = 0;
  return async function limitInFlight(c, next) {
    const { chunkSizeBytes, maxInFlightBytes } = c.var.config;
    const charge = chargeOf(c.req.raw, chunkSizeBytes);
    if (inFlightBytes > 0 && inFlightBytes + charge > maxInFlightBytes) {
      c.var.log.log("warn", "request_shed", {
        request_id: c.var.requestId,
        method: c.req.method,
        path: c.var.logPath ?? c.req.path,
        charge_bytes: charge,
        in_flight_bytes: inFlightBytes,
        max_in_flight_bytes: maxInFlightBytes,
      });
      c.header("Retry-After", String(RETRY_AFTER_SECONDS));
      return problem(c, "overloaded");
    }
    inFlightBytes += charge;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlightBytes -= charge;
    };
    const pipesSettled: Promise<void>[] = [];
    // An upload is over when its handler answers; only a download's body outlives the handler.
    if (c.req.method !== "PUT") c.set("streams", notifyingPipes(c.var.streams, pipesSettled));
    try {
      await next();
    } catch (error) {
      release();
      throw error;
    }
    if (pipesSettled.length === 0) {
      release();
      return;
    }
    keepAlive(c, Promise.all(pipesSettled).then(release));
  };
}

/** A PUT's chunk buffers never exceed its body; any other data request may hold two whole chunks. */
function chargeOf(request: Request, chunkSizeBytes: number): number {
  const buffers = BUFFERED_CHUNKS_PER_REQUEST * chunkSizeBytes;
  if (request.method !== "PUT") return buffers;
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  return Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, buffers) : buffers;
}

/**
 * The request's stream port, whose exact-length pipes report when their writer settles: a download's body is
 * written into such a pipe by a pump that outlives the handler and holds its chunks until it closes or aborts
 * the writer (shared/objects/download.ts), whether the body was sent whole, cut short, or its reader went away.
 * Only `getWriter` is wrapped, never a write, so the bytes flow exactly as before at no cost per chunk.
 */
function notifyingPipes(streams: StreamRuntime, settled: Promise<void>[]): StreamRuntime {
  // Every other member is the runtime's own (spread, so a member added to the port is never dropped here: a field
  // listed by hand once silently turned the Node download's piece hashing off). The wrapped pipe's writes are the
  // runtime's own too, so they release a chunk exactly when the runtime's do (`writeReleasesChunk`).
  return {
    ...streams,
    exactLengthPipe(length) {
      const pipe = streams.exactLengthPipe(length);
      const getWriter = pipe.writable.getWriter.bind(pipe.writable);
      Object.defineProperty(pipe.writable, "getWriter", {
        value: function getNotifyingWriter() {
          const writer = getWriter();
          settled.push(writer.closed.then(ignore, ignore));
          return writer;
        },
      });
      return pipe;
    },
  };
}

function ignore(): void {}

/**
 * On Workers, `waitUntil` keeps the release pending past the response, and past a client's disconnect, so the
 * charge is returned when the pump settles; Node has no execution context and runs the promise to its end anyway.
 */
function keepAlive(c: Context<AppEnv>, task: Promise<void>): void {
  let executionCtx: { waitUntil(promise: Promise<unknown>): void };
  try {
    executionCtx = c.executionCtx;
  } catch {
    return;
  }
  executionCtx.waitUntil(task);
}
