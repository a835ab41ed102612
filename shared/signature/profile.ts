import { VerigateError } from "../errors/index.ts";
import {
  BODY_COMPONENT,
  MAX_NONCE_CHARS,
  MIN_NONCE_CHARS,
  NONCE_PATTERN,
  REQUIRED_COMPONENTS,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
  VERIGATE_TAG,
} from "./constants.ts";
import type { ParsedSignature, SignatureParams } from "./parse.ts";

export interface ProfiledSignature extends ParsedSignature {
  params: SignatureParams & { created: number; keyid: string; nonce: string; alg?: SignatureAlgorithm };
}

/** Enforces what Verigate asks of a signature beyond RFC 9421 (PROTOCOL section 1); every miss is `malformed_signature`. */
export function checkProfile(parsed: ParsedSignature, request: { hasBody: boolean }): ProfiledSignature {
  checkCoverage(parsed.components, request.hasBody);
  const { created, keyid, nonce, alg, tag, expires } = parsed.params;
  if (created === undefined || !Number.isSafeInteger(created)) throw malformed("created missing or not an integer");
  if (expires !== undefined && !Number.isSafeInteger(expires)) throw malformed("expires not an integer");
  if (keyid === undefined || keyid === "") throw malformed("keyid missing");
  if (nonce === undefined || !isNonce(nonce)) throw malformed("nonce missing or not 22..128 base64 characters");
  if (tag !== undefined && tag !== VERIGATE_TAG) throw malformed(`tag ${tag}`);
  if (alg !== undefined && !isAlgorithm(alg)) throw malformed(`alg ${alg}`);
  return { ...parsed, params: { ...parsed.params, created, keyid, nonce, alg } };
}

function checkCoverage(components: readonly string[], hasBody: boolean): void {
  if (new Set(components).size !== components.length) throw malformed("duplicate component");
  const required = hasBody ? [...REQUIRED_COMPONENTS, BODY_COMPONENT] : REQUIRED_COMPONENTS;
  const missing = required.filter((name) => !components.includes(name));
  if (missing.length > 0) throw malformed(`components not covered: ${missing.join(" ")}`);
}

/** Padding is not entropy: the lower bound counts alphabet characters only. */
function isNonce(nonce: string): boolean {
  const unpadded = nonce.replace(/=+$/, "");
  return NONCE_PATTERN.test(nonce) && unpadded.length >= MIN_NONCE_CHARS && nonce.length <= MAX_NONCE_CHARS;
}

function isAlgorithm(alg: string): alg is SignatureAlgorithm {
  return (SIGNATURE_ALGORITHMS as readonly string[]).includes(alg);
}

function malformed(detail: string): VerigateError {
  return new VerigateError("malformed_signature", detail);
}
