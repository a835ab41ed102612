import { SHARE, VerigateError } from "../errors/index.ts";

/** PROTOCOL section 4: links live 300 s unless asked otherwise. */
export const DEFAULT_PRESIGN_EXPIRES_SECONDS = 300;

export type PresignMode = "gateway" | "storage";

export interface PresignRequest {
  key: string;
  expiresIn: number;
  singleUse: boolean;
  mode: PresignMode;
}

/** Validates the JSON body of `POST /v1/presign`; `bad_request` for anything outside the contract. */
export function parsePresignRequest(body: Record<string, unknown>, maxSeconds: number): PresignRequest {
  const { key, single_use: singleUse = false, mode = "gateway" } = body;
  if (typeof key !== "string") throw new VerigateError("bad_request", "key must be a string", SHARE);
  const expiresIn = parseExpiresIn(body.expires_in, maxSeconds);
  if (typeof singleUse !== "boolean") throw new VerigateError("bad_request", "single_use must be a boolean", SHARE);
  if (mode !== "gateway" && mode !== "storage") throw new VerigateError("bad_request", "mode must be gateway or storage", SHARE);
  if (mode === "storage" && singleUse) throw new VerigateError("bad_request", "a storage URL cannot be single-use", SHARE);
  return { key, expiresIn, singleUse, mode };
}

/** `expires_in` of a presign or plan request: whole seconds from 1 to `maxSeconds`, 300 (or `maxSeconds` if smaller) when absent. */
export function parseExpiresIn(value: unknown, maxSeconds: number): number {
  const expiresIn = value === undefined ? Math.min(DEFAULT_PRESIGN_EXPIRES_SECONDS, maxSeconds) : value;
  if (!Number.isSafeInteger(expiresIn) || (expiresIn as number) < 1 || (expiresIn as number) > maxSeconds) {
    throw new VerigateError("bad_request", `expires_in must be an integer from 1 to ${maxSeconds}`, SHARE);
  }
  return expiresIn as number;
}
