import type { Context as LambdaContext, LambdaFunctionURLEvent, StreamifyHandler } from "aws-lambda";
import type { Writable } from "node:stream";
import { requestFromEvent } from "./lambda-request.ts";

/** What the Hono app sees as `c.env` on Lambda. */
export interface LambdaBindings {
  event: LambdaFunctionURLEvent;
  lambdaContext: LambdaContext;
}

export type FetchHandler = (request: Request, env: LambdaBindings) => Response | Promise<Response>;

/** The part of the runtime's response stream this adapter uses: the runtime hands over a wrapper, not a full Writable. */
type ResponseStream = Pick<Writable, "write" | "end" | "once" | "off">;

/**
 * A Function URL handler (`InvokeMode: RESPONSE_STREAM`) around a fetch function. Every write waits for the
 * stream to drain, so a slow client holds back reads from storage instead of making the function buffer the
 * object. Written here instead of using `streamHandle` from `hono/aws-lambda` (4.13): that one paces its
 * writes since hono#5333, but when a body fails part way (a chunk failed verification) it destroys the
 * runtime's stream, writes "Internal Server Error" after it, logs an unstructured line and resolves as if
 * the invocation succeeded. Here a failed body stops writing, cancels its source and rejects, which is the
 * runtime's own way to fail a streamed invocation (it ends the stream with error trailers) and cuts the
 * client's response short of its Content-Length, with no byte after the last verified one.
 */
export function streamingHandler(fetch: FetchHandler): StreamifyHandler<LambdaFunctionURLEvent, void> {
  return async function handleStreaming(event, responseStream, lambdaContext) {
    const response = await fetch(requestFromEvent(event), { event, lambdaContext });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (name !== "set-cookie") headers[name] = value;
    });
    const stream: ResponseStream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: response.status,
      headers,
      cookies: response.headers.getSetCookie(),
    });
    // The runtime sends the status and headers with the first write, so a bodiless response writes once too.
    stream.write("");
    if (response.body) await writeBody(response.body, stream);
    await ended(stream);
  };
}

async function writeBody(body: ReadableStream<Uint8Array>, stream: ResponseStream): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (!stream.write(value)) await settled(stream, "drain");
    }
  } catch (error) {
    reader.cancel(error).catch(() => {});
    throw error;
  }
}

function ended(stream: ResponseStream): Promise<void> {
  const finished = settled(stream, "finish");
  stream.end();
  return finished;
}

/** Resolves on `event`; rejects when the stream errors or closes first, so a dead stream never leaves a write waiting. */
function settled(stream: ResponseStream, event: "drain" | "finish"): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off(event, onEvent);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const onEvent = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => onError(new Error(`response stream closed while waiting for ${event}`));
    stream.once(event, onEvent);
    stream.once("error", onError);
    stream.once("close", onClose);
  });
}
