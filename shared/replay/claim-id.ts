import { sha256Hex } from "../crypto/encoding.ts";
import { VerigateError } from "../errors/index.ts";
import { describeError } from "../log.ts";
import type { ClaimWindow, ReplayStore } from "./index.ts";

/**
 * The replay-store id of a signature's (keyid, nonce) pair (PROTOCOL section 1).
 * The nonce alphabet (base64/base64url) has no newline, so the last newline splits the input
 * in exactly one way: two different pairs never share an id.
 */
export function replayClaimId(keyid: string, nonce: string): Promise<string> {
  return sha256Hex(`${keyid}\n${nonce}`);
}

/**
 * The replay-store id of a single-use link's nonce. Its input holds no newline while every signature claim's
 * does, so no (keyid, nonce) a signer chooses can hash to a link's id: a signer who reads a link's nonce in
 * its token cannot spend the link.
 */
export function linkClaimId(nonce: string): Promise<string> {
  return sha256Hex(`verigate link\u0000${nonce}`);
}

/**
 * Claims `id` and fails closed: a store that cannot answer becomes 503 `replay_store_unavailable`, never a
 * pass, with the store's error kept for the log. Signatures and single-use links both claim through here.
 */
export async function claimOrFailClosed(store: ReplayStore, id: string, window: ClaimWindow): Promise<boolean> {
  try {
    return await store.claim(id, window);
  } catch (error) {
    throw new VerigateError("replay_store_unavailable", JSON.stringify(describeError(error)), { cause: error });
  }
}
