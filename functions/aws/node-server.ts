import type { AddressInfo } from "node:net";
import { createServer } from "node:http";
import { type HttpBindings, getRequestListener } from "@hono/node-server";
import { loadConfig, type Vars } from "../../shared/config/index.ts";
import type { Logger } from "../../shared/log.ts";
import { createApp } from "../app.ts";
import { awsBackends } from "./backends.ts";
import type { Backends } from "../context.ts";
import { answerClientError, cutOnBodyFailure, lingerOnUnreadBody, unparsableRequest, withoutPhantomBody } from "./node-http-patches.ts";

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
  const backends = awsBackends(loadConfig(vars, { runtime: "node" }), {
    clientAddress: (c) => (c.env as HttpBindings).incoming.socket.remoteAddress ?? "unknown",
    ...(options.log ? { log: options.log } : {}),
  });
  const app = createApp(() => backends);
  const hostname = options.hostname ?? "127.0.0.1";
  const { log } = backends;
  const listener = getRequestListener(
    async (request, env) => cutOnBodyFailure(await app.fetch(withoutPhantomBody(request), env), (env as HttpBindings).outgoing),
    // The adapter's own clean-up of an unread body gives up after 500 ms; `lingerOnUnreadBody` replaces it.
    { hostname, errorHandler: unparsableRequest(log), autoCleanupIncoming: false },
  );
  const server = createServer((incoming, outgoing) => {
    outgoing.once("finish", () => lingerOnUnreadBody(incoming));
    return listener(incoming, outgoing);
  });
  server.on("clientError", answerClientError(log));
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, hostname, () => resolve(server.address() as AddressInfo));
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
