import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIB } from "../../shared/bytes.ts";
import type { AwsGateway } from "./support/aws-stores.ts";
import { startNodeGateway } from "./support/node-gateway.ts";

const PIECE = 64 * 1024;

interface Exchange {
  received: string;
  /** The error the client's socket saw, if any (a reset). */
  error: string | undefined;
  /** Body bytes the client wrote before it finished or the connection ended. */
  sent: number;
}

/**
 * Sends an unsigned PUT declaring `declared` bytes in 64 KiB pieces, `intervalMs` apart (0: as fast as the socket
 * takes them), while the gateway refuses it (401) before reading any of it.
 */
function unsignedPut(origin: string, declared: number, intervalMs: number): Promise<Exchange> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const exchange: Exchange = { received: "", error: undefined, sent: 0 };
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => (exchange.received += text));
    socket.on("error", (error: NodeJS.ErrnoException) => (exchange.error ??= error.code ?? error.message));
    socket.once("connect", async () => {
      socket.write(`PUT /v1/objects/early/answer.bin HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Length: ${declared}\r\n\r\n`);
      const piece = Buffer.alloc(PIECE, 7);
      while (exchange.sent < declared && !socket.destroyed) {
        const flushed = socket.write(piece);
        exchange.sent += PIECE;
        if (intervalMs > 0) await new Promise((next) => setTimeout(next, intervalMs));
        else if (!flushed) await new Promise((next) => socket.once("drain", next).once("close", next));
      }
      socket.end();
    });
    socket.once("close", () => resolve(exchange));
  });
}

describe("the Node server answering a request before reading its body", () => {
  let gateway: AwsGateway;
  beforeAll(async () => {
    gateway = await startNodeGateway();
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  // Regression: @hono/node-server read an unread body for 500 ms and then closed the socket, so a client still sending
  // (undici, on a loaded machine) saw the connection end or reset instead of the answer.
  it("reads the rest of a slow body, so the client sends it whole and keeps the connection", async () => {
    const declared = 2 * MIB;
    // 32 pieces 60 ms apart: about two seconds, four times the adapter's 500 ms.
    const exchange = await unsignedPut(gateway.origin, declared, 60);
    expect(exchange.received).toMatch(/^HTTP\/1\.1 401 /);
    expect(exchange.received).toContain("application/problem+json");
    expect({ error: exchange.error, sent: exchange.sent }).toEqual({ error: undefined, sent: declared });
  });

  it("stops reading past 64 MiB: an endless body does not hold the socket", async () => {
    const declared = 512 * MIB;
    const exchange = await unsignedPut(gateway.origin, declared, 0);
    expect(exchange.received).toMatch(/^HTTP\/1\.1 401 /);
    expect(exchange.sent).toBeGreaterThan(64 * MIB);
    expect(exchange.sent).toBeLessThan(declared);
  });
});
