import type { Context, MiddlewareHandler } from "hono";
import { VerigateError, isVerigateError } from "../../shared/errors/index.ts";
import { ACTIONS, type Action, type Principal } from "../../shared/keys/index.ts";
import { KeyRegistry } from "../../shared/keys/registry.ts";
import { verificationKeyOf } from "../../shared/keys/verification-key.ts";
import { claimOrFailClosed, replayClaimId } from "../../shared/replay/claim-id.ts";
import {
  buildSignatureBase,
  checkFreshness,
  checkProfile,
  messageFromRequest,
  parseSignatureHeaders,
  replayWindowEnd,
  verifySignature,
} from "../../shared/signature/index.ts";
import type { AppEnv } from "../context.ts";
import { hasBody } from "./body.ts";
import { enforceLimit } from "./rate-limit.ts";

/**
 * The caller of a request that passed without a verified signature. Neither is ever an admin, so no
 * unauthenticated request manages keys (a key minted that way would outlive the mode that let it in).
 * `AUTH_MODE=off` serves this machine only (the guard checks the peer), so it may do every object action.
 */
const UNAUTHENTICATED_LOCAL: Principal = Object.freeze({
  keyid: "unauthenticated",
  alg: "ed25519",
  scopes: Object.freeze([Object.freeze({ prefix: "", actions: [...ACTIONS] })]),
  admin: false,
});

/**
 * `AUTH_MODE=soft` is a migration aid for clients that read before they sign: a request whose authentication
 * fails may read and list, the smallest set that keeps such clients working, and nothing that changes state,
 * hands out links or touches keys.
 */
const UNAUTHENTICATED_SOFT: Principal = Object.freeze({
  keyid: "unauthenticated",
  alg: "ed25519",
  scopes: Object.freeze([Object.freeze({ prefix: "", actions: ["read", "list"] as Action[] })]),
  admin: false,
});

/** Authenticates `/v1/*` requests by their RFC 9421 signature, in the order PROTOCOL section 1 fixes. */
export function signedRequests(): MiddlewareHandler<AppEnv> {
  return async function signedRequests(c, next) {
    const { authMode } = c.var.config;
    if (authMode === "off") {
      c.var.log.log("warn", "auth_off", { request_id: c.var.requestId });
      c.set("principal", UNAUTHENTICATED_LOCAL);
      return next();
    }
    try {
      const principal = await authenticate(c);
      c.set("principal", principal);
      // Counted only once the signature verified: a forged request cannot spend another key's budget.
      await enforceLimit(c, c.var.limits?.perKey, `key:${principal.keyid}`);
    } catch (error) {
      if (authMode !== "soft" || !isVerigateError(error) || !isAuthFailure(error.code)) throw error;
      c.var.log.log("warn", "auth_soft_failure", {
        request_id: c.var.requestId,
        code: error.code,
        detail: error.detail,
        method: c.req.method,
        path: c.req.path,
      });
      c.set("principal", UNAUTHENTICATED_SOFT);
    }
    return next();
  };
}

async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const { config, clock, metadata, replay } = c.var;
  const request = c.req.raw;
  const parsed = parseSignatureHeaders(request.headers.get("signature-input"), request.headers.get("signature"));
  const withBody = hasBody(request);
  if (withBody && !request.headers.has("content-digest")) throw new VerigateError("digest_missing");
  const signature = checkProfile(parsed, { hasBody: withBody });

  const nowSeconds = Math.floor(clock() / 1000);
  checkFreshness(signature.params, nowSeconds, config);
  // Built before the key lookup: a component the base cannot be built from is malformed whoever signed, so the
  // answer cannot tell an active keyid from an unknown one (found by the fuzz suite).
  const base = buildSignatureBase(messageFromRequest(request, config.publicOrigin), signature.components, signature.signatureParams);

  const record = await new KeyRegistry(metadata, config.adminKeys).findUsable(signature.params.keyid, clock());
  if (!record) throw new VerigateError("signature_invalid", `unknown, revoked or expired key ${signature.params.keyid}`);
  if (signature.params.alg !== undefined && signature.params.alg !== record.alg) {
    throw new VerigateError("signature_invalid", `alg ${signature.params.alg} disagrees with key record ${record.alg}`);
  }
  if (!(await verifySignature(base, signature.signature, await verificationKeyOf(record)))) {
    throw new VerigateError("signature_invalid", `signature does not verify for ${record.keyid}`);
  }

  const claimId = await replayClaimId(record.keyid, signature.params.nonce);
  const claimed = await claimOrFailClosed(replay, claimId, { nowSeconds, expiresAtSeconds: replayWindowEnd(signature.params, config) });
  if (!claimed) throw new VerigateError("replayed_request", `nonce reused by ${record.keyid}`);
  return { keyid: record.keyid, alg: record.alg, scopes: record.scopes, admin: record.admin };
}

/** Soft mode lets only authentication failures through; a store outage or bad input still fails. */
function isAuthFailure(code: string): boolean {
  return ["signature_missing", "malformed_signature", "signature_expired", "signature_not_yet_valid", "signature_invalid", "replayed_request"].includes(code);
}
