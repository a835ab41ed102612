import { type IncomingMessage, STATUS_CODES, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { MIB } from "../../shared/bytes.ts";
import type { ErrorCode } from "../../shared/errors/index.ts";
import { PROBLEM_CONTENT_TYPE, problemBody } from "../../shared/errors/problem.ts";
import { describeError, type Logger } from "../../shared/log.ts";

/**
 * What the Node server adds around `@hono/node-server` so it behaves as the Workers build does: requests
 * without a body have none, a body failing part way cuts the connection, and the refusals Node makes before
 * the gateway runs (unparsable requests) are problem+json with a request id like every other refusal.
 */

/**
 * A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 section 6.3), but
 * `@hono/node-server` gives every request other than GET and HEAD a body stream, which would make the
 * gateway demand a Content-Digest from, say, a DELETE that fetch sent without one.
 */
export function withoutPhantomBody(request: Request): Request {
  if (request.body === null || request.headers.has("content-length") || request.headers.has("transfer-encoding")) return request;
  return new Request(request.url, { method: request.method, headers: request.headers, signal: request.signal });
}

/**
 * A body that fails part way (a chunk failed verification) must end the response short of its
 * Content-Length. `@hono/node-server` does that once headers are out, but for the gateway's responses it
 * first reads a few pieces of the body before sending headers, and a failure among those became a 500 whose
 * text body was the error message, naming the blob (5 of 6 runs of a second-chunk mismatch, measured). So a
 * failure here closes the connection itself and the error never reaches the adapter; the gateway logged it.
 */
export function cutOnBodyFailure(response: Response, outgoing: ServerResponse): Response {
  if (!response.body) return response;
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch {
          // The pending read is settled when the adapter sees the connection close and cancels.
          outgoing.destroy();
          return;
        }
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * `@hono/node-server`'s answer when it cannot build a Request (a target such as `/a\b` that the URL parser
 * refuses) or the app itself threw: the gateway never ran, so this is where its request id is made.
 */
export function unparsableRequest(log: Logger): (error: unknown) => Response {
  return (error) => {
    const code: ErrorCode = isRequestError(error) ? "bad_request" : "internal";
    const body = problemBody(code, crypto.randomUUID());
    log.log(body.status >= 500 ? "error" : "warn", "request_failed", { request_id: body.request_id, code, stage: "node_adapter", ...describeError(error) });
    return new Response(JSON.stringify(body), {
      status: body.status,
      headers: { "Content-Type": PROBLEM_CONTENT_TYPE, "X-Request-Id": body.request_id },
    });
  };
}

function isRequestError(error: unknown): boolean {
  return error instanceof Error && error.name === "RequestError";
}

/** Node's HTTP parser errors (`clientError`) that have a status of their own; every other one is a 400. */
const PARSER_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: "headers_too_large",
  ERR_HTTP_REQUEST_TIMEOUT: "request_timeout",
};

/**
 * Replaces Node's bare `400 Bad Request` (or 431, 408) written when its parser refuses bytes on the
 * connection (oversize headers, junk after a body) with a problem+json carrying a fresh request id, then
 * closes the connection, since nothing after unparsable bytes can be trusted to frame a request.
 */
export function answerClientError(log: Logger): (error: NodeJS.ErrnoException, socket: Duplex) => void {
  return (error, socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const code = PARSER_ERROR_CODES[error.code ?? ""] ?? "bad_request";
    const body = problemBody(code, crypto.randomUUID());
    const text = JSON.stringify(body);
    log.log("warn", "request_failed", { request_id: body.request_id, code, stage: "http_parser", error_code: error.code });
    socket.end(
      [
        `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status] ?? ""}`,
        `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
        `Content-Length: ${Buffer.byteLength(text)}`,
        `X-Request-Id: ${body.request_id}`,
        "Connection: close",
        "",
        text,
      ].join("\r\n"),
    );
  };
}

/** How long, and how many bytes of it, the server reads a body it answered without reading. */
const UNREAD_BODY_LINGER_MS = 10_000;
const UNREAD_BODY_MAX_BYTES = 64 * MIB;

/**
 * Reads and discards what is left of a request body once its answer went out: a refusal made before the body was
 * read (401, 409, 413, 429 ...) reaches a client still sending it. `@hono/node-server` drains such a body for only
 * 500 ms and then closes the socket, and a client still writing then saw the connection end or reset instead of the
 * problem+json (undici: "fetch failed"; a 192 KiB part on a loaded machine, issue 15's race test). Bounded in time and
 * bytes, as a slow or endless body must not hold the socket: past either bound the connection is closed.
 */
export function lingerOnUnreadBody(incoming: IncomingMessage): void {
  if (incoming.readableEnded || incoming.destroyed) return;
  let read = 0;
  const close = () => {
    stop();
    incoming.socket?.destroySoon();
  };
  const onData = (piece: Buffer) => {
    read += piece.length;
    if (read > UNREAD_BODY_MAX_BYTES) close();
  };
  const timer = setTimeout(close, UNREAD_BODY_LINGER_MS);
  timer.unref();
  function stop() {
    clearTimeout(timer);
    incoming.off("data", onData);
    incoming.off("end", stop);
    incoming.off("error", stop);
  }
  // The Request's body stream (`Readable.toWeb`, made as soon as anything looked at `request.body`) is still a `data`
  // listener, and it pauses the socket once its unread queue is full: nothing reads it now the answer is out.
  incoming.removeAllListeners("data");
  incoming.on("data", onData);
  incoming.once("end", stop);
  incoming.once("error", stop);
  incoming.resume();
}
