import { VerigateError } from "../errors/index.ts";
import { openClaims, sealClaims } from "./mac-token.ts";

/**
 * Gateway download links: `/v1/dl/<payload>.<mac>` (`mac-token.ts`). The payload names what the link grants and
 * carries no secret; the MAC makes every byte of it tamper-proof.
 */
export interface LinkClaims {
  /** Object key. */
  key: string;
  /** The manifest version the link is pinned to: an overwrite does not change what it serves. */
  version: string;
  /** Expiry, epoch seconds. */
  exp: number;
  /** The keyid that issued the link; revoking it revokes its links. */
  kid: string;
  /** Present on single-use links: the id claimed in the replay store on first use. */
  nonce?: string;
}

/** Domain separation: a MAC made for links can never be mistaken for another use of the same secret. */
const LINK_PURPOSE = "verigate presign link v1";

export function issueLinkToken(claims: LinkClaims, secret: string): Promise<string> {
  return sealClaims(claims, secret, LINK_PURPOSE);
}

/**
 * The claims of a token whose MAC verifies; `not_found` for anything else, so a guessed or altered token
 * learns nothing about which links exist. Expiry and revocation are the caller's checks.
 */
export async function readLinkToken(token: string, secret: string): Promise<LinkClaims> {
  const invalid = () => new VerigateError("not_found", "link token fails verification");
  const claims = await openClaims(token, secret, LINK_PURPOSE);
  if (!claims) throw invalid();
  const { key, version, exp, kid, nonce } = claims;
  if (typeof key !== "string" || typeof version !== "string" || typeof kid !== "string" || !Number.isSafeInteger(exp)) throw invalid();
  if (nonce !== undefined && typeof nonce !== "string") throw invalid();
  return { key, version, exp: exp as number, kid, ...(nonce === undefined ? {} : { nonce }) };
}
