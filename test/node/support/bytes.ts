import { createHash, randomFillSync } from "node:crypto";

/** Random test payloads: any byte a tamper test flips must differ from what it replaces with high probability. */
export function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  return randomFillSync(new Uint8Array(size));
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}
