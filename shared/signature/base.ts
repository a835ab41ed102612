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

/** The signature base of RFC 9421 section 2.5: one line per covered component, then `@signature-params`, no final newline. */
export function buildSignatureBase(message: SignedMessage, components: readonly string[], signatureParams: string): string {
  const lines = components.map((name) => `${serializeString(name)}: ${componentValue(message, name)}`);
  lines.push(`"@signature-params": ${signatureParams}`);
  return lines.join("\n");
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
