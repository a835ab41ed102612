/**
 * A JS stream (no BYOB support) handing out `bytes` in `pieceBytes` slices, one per pull: how a network
 * stream arrives, so readers meet re-chunking instead of one convenient buffer.
 */
export function piecewiseStream(bytes: Uint8Array, pieceBytes: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + pieceBytes));
      offset += pieceBytes;
    },
  });
}
