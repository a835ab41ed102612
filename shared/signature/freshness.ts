import { VerigateError } from "../errors/index.ts";

export interface FreshnessWindow {
  clockSkewSeconds: number;
  maxSignatureAgeSeconds: number;
}

export interface SignatureTimes {
  created: number;
  expires?: number;
}

/** PROTOCOL section 1, "Freshness"; all times are epoch seconds. */
export function checkFreshness(params: SignatureTimes, nowSeconds: number, window: FreshnessWindow): void {
  const { created, expires } = params;
  const { clockSkewSeconds, maxSignatureAgeSeconds } = window;
  // A signer asking for a longer life than the gateway grants is outside the profile rather than stale:
  // the request can never be valid as signed, so the client learns to fix its signer, not its clock.
  if (expires !== undefined && expires - created > maxSignatureAgeSeconds) {
    throw new VerigateError("malformed_signature", `expires - created = ${expires - created} s > ${maxSignatureAgeSeconds} s`);
  }
  if (created > nowSeconds + clockSkewSeconds) {
    throw new VerigateError("signature_not_yet_valid", `created ${created}, now ${nowSeconds}`);
  }
  if (nowSeconds > created + maxSignatureAgeSeconds + clockSkewSeconds) {
    throw new VerigateError("signature_expired", `created ${created}, now ${nowSeconds}`);
  }
  if (expires !== undefined && nowSeconds > expires + clockSkewSeconds) {
    throw new VerigateError("signature_expired", `expires ${expires}, now ${nowSeconds}`);
  }
}

/** The last epoch second at which `checkFreshness` can accept the signature: how long its nonce must stay claimed. */
export function replayWindowEnd(params: SignatureTimes, window: FreshnessWindow): number {
  const byAge = params.created + window.maxSignatureAgeSeconds + window.clockSkewSeconds;
  return params.expires === undefined ? byAge : Math.min(byAge, params.expires + window.clockSkewSeconds);
}
