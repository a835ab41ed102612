import { VERSION_ID } from "../objects/version.ts";
import { SHARE, VerigateError } from "../errors/index.ts";
import { validateObjectKey } from "../objects/key.ts";
import { parseExpiresIn } from "./request.ts";

/** A version id as `newVersion` makes them (shared/objects/version.ts): 26 characters of Crockford's base32. */

export interface PlanRequest {
  key: string;
  /** The version pinned by an earlier plan; undefined plans the current one. */
  version: string | undefined;
  offset: number;
  /** Bytes from `offset`; undefined runs to the end of the object. */
  length: number | undefined;
  expiresIn: number;
}

/** Validates the JSON body of `POST /v1/plans`; `bad_request` (or `invalid_key_name`) for anything outside the contract. */
export function parsePlanRequest(body: Record<string, unknown>, maxSeconds: number): PlanRequest {
  const { key, version, offset = 0, length } = body;
  if (typeof key !== "string") throw new VerigateError("bad_request", "key must be a string", SHARE);
  validateObjectKey(key);
  if (version !== undefined && (typeof version !== "string" || !VERSION_ID.test(version))) {
    throw new VerigateError("bad_request", "version must be a version id from an earlier plan", SHARE);
  }
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new VerigateError("bad_request", "offset must be a whole number of bytes", SHARE);
  if (length !== undefined && (!Number.isSafeInteger(length) || (length as number) < 1)) {
    throw new VerigateError("bad_request", "length must be a whole number of bytes, at least 1", SHARE);
  }
  return { key, version, offset: offset as number, length: length as number | undefined, expiresIn: parseExpiresIn(body.expires_in, maxSeconds) };
}
