import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request the proxy forwarded, with what came back through it. */
export interface ProxiedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  /** Response body bytes passed on to the client. */
  bodyBytes: number;
}

/**
 * What happens to a response: cut (the connection closed) or stalled, after `afterBytes` of its body; or, for
 * `expired`, `times` matching requests in a row (1 unless said) never forwarded, answered 403 with the error document
 * S3 answers a presigned URL past its expiry.
 */
export type Interruption = {
  method: string;
  /** Matches the request target. */
  url: RegExp;
  /** Matching requests let through first. */
  skip?: number;
} & ({ how: "cut" | "stall"; afterBytes: number } | { how: "expired"; times?: number });

/** S3's answer to a presigned URL past its expiry, its code and message (test/node/plans-http.test.ts sees s3rver give them). */
const EXPIRED_URL_ERROR = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`;

/**
 * A loopback HTTP proxy in front of a gateway, so a suite can interrupt a real transfer at a chosen byte. Clients
 * sign for the proxy's origin: start the gateway with `PUBLIC_ORIGIN` set to it (as behind any front), then
 * `forwardTo` the gateway. Records every request it forwards.
 */
export interface InterruptingProxy {
  origin: string;
  forwardTo(target: string): void;
  requests: ProxiedRequest[];
  /** Interrupts one matching response (after `skip` others); settles when the interruption happened. */
  interrupt(interruption: Interruption): Promise<void>;
  stop(): Promise<void>;
}

export async function startInterruptingProxy(): Promise<InterruptingProxy> {
  let upstream: URL | undefined;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const stalled = new Set<IncomingMessage>();
  let pending: { interruption: Interruption; skipped: number; taken: number; happened: () => void } | null = null;

  /** The pending interruption when `record` is a request it is for; once it took all it applies to, to no other. */
  function takeInterruption(record: ProxiedRequest): typeof pending {
    if (pending === null || record.method !== pending.interruption.method || !pending.interruption.url.test(record.url)) return null;
    if (pending.skipped < (pending.interruption.skip ?? 0)) {
      pending.skipped += 1;
      return null;
    }
    const taken = pending;
    taken.taken += 1;
    const times = taken.interruption.how === "expired" ? (taken.interruption.times ?? 1) : 1;
    if (taken.taken >= times) pending = null;
    return taken;
  }

  /** Answers for storage, as it answers an expired presigned URL; the interruption happened with the last of its `times`. */
  function refuseAsExpired(incoming: IncomingMessage, outgoing: ServerResponse, record: ProxiedRequest, taken: NonNullable<typeof pending>): void {
    record.status = 403;
    incoming.resume();
    outgoing.writeHead(403, { "content-type": "application/xml", "content-length": Buffer.byteLength(EXPIRED_URL_ERROR) });
    outgoing.end(EXPIRED_URL_ERROR, () => {
      if (pending !== taken) taken.happened();
    });
  }

  function forward(incoming: IncomingMessage, outgoing: ServerResponse): void {
    if (upstream === undefined) throw new Error("the proxy has no gateway to forward to yet");
    const record: ProxiedRequest = { method: incoming.method ?? "GET", url: incoming.url ?? "/", headers: incoming.headers, status: 0, bodyBytes: 0 };
    requests.push(record);
    const interruption = takeInterruption(record);
    if (interruption?.interruption.how === "expired") {
      refuseAsExpired(incoming, outgoing, record, interruption);
      return;
    }
    const proxied = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: record.method, path: record.url, headers: incoming.headers },
      (answer) => {
        record.status = answer.statusCode ?? 502;
        outgoing.writeHead(record.status, answer.statusMessage, answer.headers);
        answer.on("data", (chunk: Buffer) => {
          const limit =
            interruption?.interruption.how === "cut" || interruption?.interruption.how === "stall"
              ? interruption.interruption.afterBytes
              : Number.POSITIVE_INFINITY;
          const passed = chunk.subarray(0, Math.max(0, limit - record.bodyBytes));
          record.bodyBytes += passed.length;
          if (interruption === null || record.bodyBytes < limit) {
            outgoing.write(passed);
            return;
          }
          answer.pause();
          answer.removeAllListeners("data");
          stalled.add(answer);
          // Once the bytes before the interruption are on their way, so the client receives exactly `afterBytes`.
          outgoing.write(passed, () => {
            if (interruption.interruption.how === "cut") {
              answer.destroy();
              // FIN after the bytes written, not a reset, which could drop bytes still in flight.
              outgoing.socket?.end();
            }
            interruption.happened();
          });
        });
        answer.on("end", () => outgoing.end());
        // The gateway cut its own response (a chunk failed verification): the client must see the cut too, not a
        // connection left open until its read timeout. FIN after what arrived, as the gateway's own cut reads.
        answer.on("error", () => outgoing.socket?.end());
      },
    );
    proxied.on("error", () => outgoing.socket?.destroy());
    incoming.pipe(proxied);
  }

  const server = createServer(forward);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    forwardTo(target) {
      upstream = new URL(target);
    },
    interrupt(interruption) {
      return new Promise((resolve) => {
        pending = { interruption, skipped: 0, taken: 0, happened: resolve };
      });
    },
    async stop() {
      for (const answer of stalled) answer.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
