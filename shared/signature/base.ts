import { serializeString } from "structured-headers";
import { VerigateError } from "../errors/index.ts";
import type { SignedMessage } from "./message.ts";

const DERIVED_COMPONENTS: ReadonlyMap<string, (message: SignedMessage) => string> = new Map([
  ["@method", (message: SignedMessage) => message.method],
  ["@authority", (message: SignedMessage) => message.authority],
  ["@path", (message: SignedMessage) => message.path],
  ["@query", (message: SignedMessage) => message.query],
]);

/** A lowercase RFC 9110 token: RFC 9421 section 2.1 names fields in lowercase, and anything else is no field name. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/**
 * Outside ASCII, a field value's bytes depend on how each runtime decodes them (workerd and Node hand header
 * bytes over as Latin-1 code units, a signer may have encoded UTF-8), so a base holding any is refused rather
 * than normalised, as jose's httpsig does.
 */
const NON_ASCII = /[^\x00-\x7e]/;

/**
 * The signature base of RFC 9421 section 2.5: one line per covered component, then `@signature-params`, no
 * final newline. Throws `malformed_signature` for a base with a byte outside ASCII.
 */
export function buildSignatureBase(message: SignedMessage, components: readonly string[], signatureParams: string): string {
  const lines = components.map((name) => `${serializeString(name)}: ${componentValue(message, name)}`);
  lines.push(`"@signature-params": ${signatureParams}`);
  const base = lines.join("\n");
  if (NON_ASCII.test(base)) throw new VerigateError("malformed_signature", "signature base holds a byte outside ASCII");
  return base;
}

function componentValue(message: SignedMessage, name: string): string {
  if (name.startsWith("@")) {
    const derive = DERIVED_COMPONENTS.get(name);
    if (derive === undefined) throw new VerigateError("malformed_signature", `unsupported derived component ${name}`);
    return derive(message);
  }
  if (!FIELD_NAME.test(name)) throw new VerigateError("malformed_signature", `not a lowercase field name: ${name}`);
  const value = message.header(name);
  if (value === null) throw new VerigateError("malformed_signature", `covered field absent: ${name}`);
  return value.trim();
}
