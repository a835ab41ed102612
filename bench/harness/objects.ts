import { MIB } from "../../shared/bytes.ts";
import { type Signer, type Transfer, expectTransfer, signedHeaders } from "./client.ts";
import { payload, payloadSha256 } from "./payload.ts";

/** One benchmark object: its bytes are `payload(seed, size)`, regenerated for every pass, never held whole. */
export interface BenchObject {
  /** Short name used in result names: `256mib`, `1gib`. */
  label: string;
  key: string;
  size: number;
  seed: string;
  sha256: Buffer;
}

export function benchObject(label: string, size: number): BenchObject {
  const seed = `verigate-bench-${label}`;
  return { label, key: `bench/${label}`, size, seed, sha256: payloadSha256(seed, size) };
}

export interface GatewayTarget {
  origin: string;
  signer: Signer;
}

/** The product's verified PUT, the body streamed from the generator under a signed Content-Digest. */
export async function putVerified(gateway: GatewayTarget, object: BenchObject, key = object.key): Promise<Transfer> {
  return putSigned(gateway, `${gateway.origin}/v1/objects/${key}`, object);
}

/** The bench Worker's raw put of the same bytes: straight into the bucket, no hashing, no manifest. */
export async function putRaw(gateway: GatewayTarget, object: BenchObject, key = object.key): Promise<Transfer> {
  return putSigned(gateway, `${gateway.origin}/bench/raw/${key}`, object);
}

async function putSigned(gateway: GatewayTarget, url: string, object: BenchObject): Promise<Transfer> {
  const headers = { ...(await signedHeaders(gateway.signer, "PUT", url, object.sha256)), "content-length": String(object.size) };
  return expectTransfer(url, 201, { method: "PUT", headers, body: payload(object.seed, object.size) });
}

export function mibPerSecond(bytes: number, ms: number): number {
  return bytes / MIB / (ms / 1000);
}
