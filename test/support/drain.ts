/** Reads until the end or an error, keeping every byte that arrived before it. */
export async function drain(stream: ReadableStream<Uint8Array>): Promise<{ received: Uint8Array; error: unknown }> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let error: unknown;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(value);
    }
  } catch (caught) {
    error = caught ?? new Error("stream errored without a reason");
  }
  const received = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    received.set(part, at);
    at += part.length;
  }
  return { received, error };
}
