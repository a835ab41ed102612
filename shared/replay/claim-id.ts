import { sha256Hex } from "../crypto/encoding.ts";

/**
 * The replay-store id of a signature's (keyid, nonce) pair (PROTOCOL section 1).
 * The nonce alphabet (base64/base64url) has no newline, so the last newline splits the input
 * in exactly one way: two different pairs never share an id.
 */
export function replayClaimId(keyid: string, nonce: string): Promise<string> {
  return sha256Hex(`${keyid}\n${nonce}`);
}
