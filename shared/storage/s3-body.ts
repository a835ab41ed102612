import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { VerigateError } from "../errors/index.ts";
import { nodeStreams } from "../streams/node.ts";

/**
 * Sends `body` as exactly `length` bytes through `send` (a PutObject or an UploadPart).
 * The SDK's Node handler only streams a Node `Readable`, so the web stream is adapted here. The handler
 * pipes the body without watching it, and Node sends a body shorter than its Content-Length without
 * complaint: either would leave the request waiting for bytes that never come. So the length is enforced
 * on the way, and the body's error aborts the request and is what the caller sees.
 * A stream body is never retried by the SDK, since it cannot be replayed.
 */
export async function sendExactLength<T>(
  body: ReadableStream<Uint8Array>,
  length: number,
  send: (source: Readable, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const sized = body.pipeThrough(nodeStreams.exactLengthPipe(length));
  const source = Readable.fromWeb(sized as NodeReadableStream<Uint8Array>);
  const abort = new AbortController();
  let bodyError: unknown;
  source.on("error", (error) => {
    bodyError ??= error;
    abort.abort(error);
  });
  try {
    return await send(source, abort.signal);
  } catch (error) {
    source.destroy();
    throw bodyError ?? error;
  }
}

/** S3's answer to bytes that do not hash to the `x-amz-checksum-sha256` sent with them, as the gateway's code. */
export function badDigestAsMismatch(what: string): (error: unknown) => never {
  return (error) => {
    if (s3ErrorName(error) === "BadDigest") throw new VerigateError("digest_mismatch", `S3 rejected ${what}: its SHA-256 differs`, { cause: error });
    throw error;
  };
}

export function s3ErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
