import { createHash } from "node:crypto";
import { type Agent, type IncomingMessage, request } from "node:http";
import { performance } from "node:perf_hooks";
import { toHex } from "../../shared/crypto/encoding.ts";
import { type SigningKey, signRequest } from "../../shared/signature/index.ts";

export interface Signer {
  keyid: string;
  key: SigningKey;
}

/** Fresh signature headers for one request; `sha256` is the body's digest when there is a body, as the body is streamed. */
export async function signedHeaders(signer: Signer, method: string, url: string, sha256?: Buffer): Promise<Record<string, string>> {
  const { headers } = await signRequest({ method, url, keyid: signer.keyid, key: signer.key, ...(sha256 === undefined ? {} : { bodySha256: sha256 }) });
  return headers;
}

/** One response as the client saw it: times from the moment the request was issued. */
export interface Transfer {
  status: number;
  bytes: number;
  /** Until the first body byte arrived (or the end, for an empty body). */
  ttfbMs: number;
  totalMs: number;
  /** The body as text when asked for (small JSON answers). */
  text?: string;
  /** SHA-256 hex of the body when asked for (one correctness check, outside timed runs). */
  sha256?: string;
}

export interface TransferOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Streamed request body; `headers` must then carry its Content-Length. */
  body?: Iterable<Buffer>;
  keepText?: boolean;
  hash?: boolean;
  agent?: Agent | false;
}

/** One HTTP exchange, counting (and optionally hashing) the response body while discarding it. */
function transfer(url: string, options: TransferOptions = {}): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, agent: options.agent ?? false });
    req.once("error", reject);
    req.once("response", (res: IncomingMessage) => {
      let bytes = 0;
      let ttfbMs: number | undefined;
      const hash = options.hash ? createHash("sha256") : undefined;
      // A failed request's problem+json is kept, so a broken benchmark says why.
      const keepText = options.keepText === true || (res.statusCode ?? 0) >= 400;
      const pieces: Buffer[] = [];
      res.on("data", (piece: Buffer) => {
        ttfbMs ??= performance.now() - started;
        bytes += piece.length;
        hash?.update(piece);
        if (keepText) pieces.push(piece);
      });
      res.once("error", reject);
      res.once("aborted", () => reject(new Error(`${url}: response aborted after ${bytes} bytes`)));
      res.once("end", () => {
        const totalMs = performance.now() - started;
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          ttfbMs: ttfbMs ?? totalMs,
          totalMs,
          ...(keepText ? { text: Buffer.concat(pieces).toString("utf8") } : {}),
          ...(hash ? { sha256: toHex(hash.digest()) } : {}),
        });
      });
    });
    if (!options.body) {
      req.end();
      return;
    }
    void writeBody(req, options.body).catch((error: unknown) => req.destroy(error as Error));
  });
}

/** Writes the pieces as the socket takes them, so the body is never held whole. */
async function writeBody(req: ReturnType<typeof request>, body: Iterable<Buffer>): Promise<void> {
  for (const piece of body) {
    if (!req.write(piece)) await new Promise((resolve) => req.once("drain", resolve));
  }
  req.end();
}

/** A transfer that must answer `status`; anything else is a broken benchmark, reported with the body. */
export async function expectTransfer(url: string, status: number, options: TransferOptions = {}): Promise<Transfer> {
  const result = await transfer(url, options);
  if (result.status !== status) throw new Error(`${options.method ?? "GET"} ${url} answered ${result.status}, expected ${status}: ${result.text ?? ""}`);
  return result;
}
