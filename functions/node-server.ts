import type { AddressInfo } from "node:net";
import type { Server, ServerResponse } from "node:http";
import { type HttpBindings, serve } from "@hono/node-server";
import type { Vars } from "../shared/config/index.ts";
import type { Logger } from "../shared/log.ts";
import { createApp } from "./app.ts";
import { awsBackends } from "./aws-backends.ts";
import { awsConfig } from "./aws-config.ts";
import type { Backends } from "./context.ts";

export interface NodeServerOptions {
  port: number;
  /** Loopback unless told otherwise: `AUTH_MODE=off` and `REPLAY_STORE=memory` are for loopback only. */
  hostname?: string;
  log?: Logger;
}

export interface NodeServer {
  origin: string;
  backends: Backends;
  close(): Promise<void>;
}

/**
 * The gateway on Node (`@hono/node-server`) with the AWS backends, configured only by the PROTOCOL
 * section 7 variables in `vars`: the Lambda function's code path without Lambda, for local runs and tests.
 */
export async function serveNode(vars: Vars, options: NodeServerOptions): Promise<NodeServer> {
  const backends = awsBackends(awsConfig(vars, "node"), {
    clientAddress: (c) => (c.env as HttpBindings).incoming.socket.remoteAddress ?? "unknown",
    ...(options.log ? { log: options.log } : {}),
  });
  const app = createApp(() => backends);
  const hostname = options.hostname ?? "127.0.0.1";
  const { server, address } = await new Promise<{ server: Server; address: AddressInfo }>((resolve, reject) => {
    const server = serve(
      {
        hostname,
        port: options.port,
        fetch: async (request, env) => cutOnBodyFailure(await app.fetch(withoutPhantomBody(request), env), (env as HttpBindings).outgoing),
      },
      (address) => resolve({ server, address }),
    ) as Server;
    server.once("error", reject);
  });
  return {
    origin: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${address.port}`,
    backends,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections would otherwise hold the server open for their whole timeout.
        server.closeIdleConnections();
      }),
  };
}

/**
 * A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 section 6.3), but
 * `@hono/node-server` gives every request other than GET and HEAD a body stream, which would make the
 * gateway demand a Content-Digest from, say, a DELETE that fetch sent without one.
 */
function withoutPhantomBody(request: Request): Request {
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
function cutOnBodyFailure(response: Response, outgoing: ServerResponse): Response {
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
