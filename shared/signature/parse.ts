import { type BareItem, type Dictionary, type InnerList, type Item, parseDictionary, serializeInnerList } from "structured-headers";
import { VerigateError } from "../errors/index.ts";

export interface SignatureParams {
  created?: number;
  expires?: number;
  nonce?: string;
  keyid?: string;
  alg?: string;
  tag?: string;
}

export interface ParsedSignature {
  label: string;
  components: string[];
  params: SignatureParams;
  /** The `@signature-params` line of the base, serialised from the parsed inner list as RFC 9421 section 2.3 does. */
  signatureParams: string;
  signature: Uint8Array;
}

const NUMBER_PARAMS = ["created", "expires"] as const;

/**
 * RFC 9421 section 2.3 makes `created` and `expires` Integers, but structured-headers parses Integers and
 * Decimals alike into numbers, so `created=1796057756.0` would pass as 1796057756. A Decimal is told apart
 * by its text: a time parameter whose value has a dot, looked for with quoted strings blanked out (only
 * a String could hold `;created=1.` as text; byte sequences and tokens cannot).
 */
const DECIMAL_TIME_PARAM = /;\s*(?:created|expires)=-?\d+\./;
const QUOTED_STRING = /"(?:[^"\\]|\\.)*"/g;
const STRING_PARAMS = ["nonce", "keyid", "alg", "tag"] as const;

/** Parses the one signature a Verigate request carries; whether it fits the profile is `checkProfile`'s job. */
export function parseSignatureHeaders(signatureInput: string | null, signature: string | null): ParsedSignature {
  if (signatureInput === null && signature === null) throw new VerigateError("signature_missing");
  if (signatureInput === null || signature === null) throw malformed("only one of Signature-Input and Signature");
  const [label, input] = onlyMember(dictionary(signatureInput, "Signature-Input"), "Signature-Input");
  if (DECIMAL_TIME_PARAM.test(signatureInput.replace(QUOTED_STRING, '""'))) throw malformed("created and expires must be Integers");
  const [signatureLabel, value] = onlyMember(dictionary(signature, "Signature"), "Signature");
  if (label !== signatureLabel) throw malformed(`labels differ: ${label} / ${signatureLabel}`);
  if (!isInnerList(input)) throw malformed("Signature-Input member is not an inner list");
  if (isInnerList(value) || !(value[0] instanceof ArrayBuffer)) throw malformed("Signature member is not a byte sequence");
  return {
    label,
    components: input[0].map(componentName),
    params: knownParams(input[1]),
    signatureParams: serializeInnerList(input),
    signature: new Uint8Array(value[0]),
  };
}

function dictionary(header: string, name: string): Dictionary {
  try {
    return parseDictionary(header);
  } catch (error) {
    throw new VerigateError("malformed_signature", `${name} unparsable`, { cause: error });
  }
}

function onlyMember(members: Dictionary, name: string): [string, Item | InnerList] {
  const [first, ...others] = members;
  if (first === undefined || others.length > 0) throw malformed(`${name} has ${members.size} members`);
  return first;
}

function isInnerList(member: Item | InnerList): member is InnerList {
  return Array.isArray(member[0]);
}

/** Component parameters (`;sf`, `;key`, `;req`...) change the value signed; none is supported, so none passes. */
function componentName([value, params]: Item): string {
  if (typeof value !== "string") throw malformed("component identifier is not a string");
  if (params.size > 0) throw malformed(`component parameters on ${value}`);
  return value;
}

/** Unknown parameters stay in `signatureParams` (they are signed) but are not interpreted. */
function knownParams(params: Map<string, BareItem>): SignatureParams {
  const known: SignatureParams = {};
  for (const name of NUMBER_PARAMS) {
    const value = params.get(name);
    if (value === undefined) continue;
    if (typeof value !== "number") throw malformed(`${name} is not a number`);
    known[name] = value;
  }
  for (const name of STRING_PARAMS) {
    const value = params.get(name);
    if (value === undefined) continue;
    if (typeof value !== "string") throw malformed(`${name} is not a string`);
    known[name] = value;
  }
  return known;
}

function malformed(detail: string): VerigateError {
  return new VerigateError("malformed_signature", detail);
}
