import type { StreamRuntime, WholeHasher } from "./index.ts";

/** The Workers runtime's native pieces: `crypto.DigestStream` for whole-body SHA-256, `FixedLengthStream` for exact lengths. */
export const workerdStreams: StreamRuntime = {
  wholeHasher: digestStreamHasher,
  exactLengthPipe: (length) => new FixedLengthStream(length),
};

/** workerd hangs `DigestStream` off `crypto`, where the DOM typing of `crypto` does not know it. */
const workerdCrypto = crypto as unknown as { DigestStream: typeof DigestStream };

function digestStreamHasher(): WholeHasher {
  const stream = new workerdCrypto.DigestStream("SHA-256");
  const writer = stream.getWriter();
  return {
    update: (chunk) => writer.write(chunk),
    async digest() {
      await writer.close();
      return new Uint8Array(await stream.digest);
    },
  };
}
