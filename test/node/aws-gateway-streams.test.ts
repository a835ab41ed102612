import { describe, expect, it } from "vitest";
import { nodeStreams } from "../../shared/objects/node-streams.ts";
import { randomBytes } from "./support/bytes.ts";

/** Writes `parts` into a pipe of `length` bytes and reads what comes out, or the error the readable ends with. */
async function throughPipe(length: number, parts: Uint8Array[], end: "close" | "abort"): Promise<{ bytes: number; error: unknown }> {
  const pipe = nodeStreams.exactLengthPipe(length);
  const writer = pipe.writable.getWriter();
  const writing = (async () => {
    for (const part of parts) await writer.write(part);
    if (end === "close") await writer.close();
    else await writer.abort(new Error("verification failed"));
  })().catch(() => {});
  const reader = pipe.readable.getReader();
  let bytes = 0;
  let error: unknown;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) bytes += read.value.byteLength;
  } catch (thrown) {
    error = thrown;
  }
  await writing;
  return { bytes, error };
}

describe("the Node stream runtime (Lambda and the Node server)", () => {
  it("hashes a body fed in pieces to the SHA-256 of the whole", async () => {
    const body = randomBytes(300_000);
    const hasher = nodeStreams.wholeHasher();
    for (let offset = 0; offset < body.length; offset += 65_536) await hasher.update(body.subarray(offset, offset + 65_536));
    expect(Buffer.from(await hasher.digest())).toEqual(Buffer.from(await crypto.subtle.digest("SHA-256", body)));
  });

  it("passes exactly `length` bytes through and ends cleanly", async () => {
    expect(await throughPipe(10, [randomBytes(4), randomBytes(6)], "close")).toEqual({ bytes: 10, error: undefined });
  });

  it("errors its readable when the writer aborts, so the response cannot end cleanly", async () => {
    const { bytes, error } = await throughPipe(10, [randomBytes(4)], "abort");
    expect(bytes).toBeLessThanOrEqual(4);
    expect(error).toMatchObject({ message: "verification failed" });
  });

  it("errors its readable when closed short of `length`", async () => {
    expect((await throughPipe(10, [randomBytes(4)], "close")).error).toMatchObject({ code: "internal" });
  });

  it("errors its readable when given more than `length`", async () => {
    expect((await throughPipe(10, [randomBytes(4), randomBytes(7)], "close")).error).toMatchObject({ code: "internal" });
  });
});
