import { createCipheriv, createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sequence, VECTOR, vectorManifest } from "../support/encryption-vectors.ts";

/**
 * An independent implementation of docs/ENCRYPTION.md with node:crypto and Buffer, sharing no code with shared/crypto:
 * it is how the pinned vectors were produced, and it recomputes them, so a vector can only be changed together with
 * the document's construction. test/support/encryption-cases.ts checks the gateway's code against the same vectors.
 */

function lengthPrefixed(fields: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    fields.flatMap((field) => {
      const bytes = Buffer.from(field);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  );
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

function u64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

/** HKDF-SHA-256 with the fixed salt "verigate" and a purpose's info label. */
function hkdf(secret: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, Buffer.from("verigate"), Buffer.from(info), 32));
}

/** AES-256-GCM: ciphertext then the 16-byte tag. */
function seal(key: Buffer, nonce: Buffer, associatedData: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(associatedData);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

const deploymentKey = Buffer.from(VECTOR.deploymentKeyBase64, "base64");
const dataKey = Buffer.from(VECTOR.dataKey);
const nonce = (index: number, last: boolean) => Buffer.concat([Buffer.from(VECTOR.noncePrefix), u32(index), Buffer.from([last ? 1 : 0])]);
const chunkData = (index: number) => lengthPrefixed(["verigate chunk v1", VECTOR.key, VECTOR.version, u32(index)]);

describe("the encryption vectors follow docs/ENCRYPTION.md (independent node:crypto implementation)", () => {
  it("have the documented inputs", () => {
    expect(deploymentKey).toEqual(Buffer.from(sequence(0, 32)));
    expect(Buffer.from(VECTOR.noncePrefix).toString("base64")).toBe(VECTOR.noncePrefixBase64);
  });

  it("seal chunks with prefix || index || last-flag nonces and key/version/index associated data", () => {
    expect(seal(dataKey, nonce(0, false), chunkData(0), Buffer.from(VECTOR.chunk0.plaintext)).toString("hex")).toBe(VECTOR.chunk0.sealed);
    expect(seal(dataKey, nonce(1, true), chunkData(1), Buffer.from(VECTOR.chunk1Last.plaintext)).toString("hex")).toBe(VECTOR.chunk1Last.sealed);
    expect(seal(dataKey, nonce(0, true), chunkData(0), Buffer.alloc(0)).toString("hex")).toBe(VECTOR.emptyLast.sealed);
  });

  it("wrap the data key under the HKDF key-encryption key, bound to key id, object key and version", () => {
    const kek = hkdf(deploymentKey, "verigate data key wrapping v1");
    const wrapNonce = Buffer.from(sequence(0xc0, 12));
    const bound = lengthPrefixed(["verigate wrapped data key v1", VECTOR.kid, VECTOR.key, VECTOR.version]);
    expect(Buffer.concat([wrapNonce, seal(kek, wrapNonce, bound, dataKey)]).toString("base64")).toBe(VECTOR.wrappedKey);
  });

  it("derive the key check value and sign the manifest's canonical encoding", () => {
    const check = createHmac("sha256", hkdf(deploymentKey, "verigate deployment key check v1")).update("verigate deployment key check").digest();
    expect(check.subarray(0, 16).toString("base64url")).toBe(VECTOR.keyCheck);
    const m = vectorManifest();
    const input = lengthPrefixed([
      "verigate manifest v1",
      ...["signature.kid", VECTOR.kid, "signature.key_check", VECTOR.keyCheck],
      ...["key", m.key, "version", m.version],
      ...["size", u64(m.size), "sha256", m.sha256, "chunk_size", u64(m.chunk_size)],
      ...["chunks", u32(m.chunks.length), ...m.chunks],
      ...["content_type", m.content_type, "created_at", m.created_at, "keyid", m.keyid, "blob", m.blob],
      ...["encryption.scheme", m.encryption.scheme, "encryption.kid", m.encryption.kid],
      ...["encryption.wrapped_key", m.encryption.wrapped_key, "encryption.nonce_prefix", m.encryption.nonce_prefix],
    ]);
    expect(createHmac("sha256", hkdf(deploymentKey, "verigate manifest signature v1")).update(input).digest("base64url")).toBe(VECTOR.manifestMac);
  });

  it("keep the presign link key: same label and salt, so links issued before still verify", () => {
    const key = hkdf(Buffer.from(VECTOR.presignSecret), "verigate presign link v1");
    expect(createHmac("sha256", key).update("payload").digest("base64url")).toBe(VECTOR.presignLinkMac);
  });
});
