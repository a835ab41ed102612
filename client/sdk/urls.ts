import { VerigateUsageError } from "./errors.ts";

/** The endpoint as an origin plus optional base path, without a trailing slash; anything but http(s) is refused. */
export function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new VerigateUsageError(`the endpoint is not a URL: ${endpoint}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new VerigateUsageError(`the endpoint is not http(s): ${endpoint}`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * Each segment is percent-encoded so the gateway's single decode gives the key back. Empty and dot segments
 * are refused here: the URL parser would drop or resolve them and the request would name another key.
 */
export function objectPath(key: string): string {
  const segments = key.split("/");
  if (segments.some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw new VerigateUsageError(`object key ${JSON.stringify(key)} has an empty, "." or ".." segment`);
  }
  try {
    return `/v1/objects/${segments.map(encodeURIComponent).join("/")}`;
  } catch {
    throw new VerigateUsageError(`object key ${JSON.stringify(key)} is not valid Unicode`);
  }
}

/** A `Range` header for one byte range; `length` absent reads to the end. */
export function rangeHeader(range: { offset: number; length?: number }): string {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 1))) {
    throw new VerigateUsageError(`invalid range ${JSON.stringify(range)}`);
  }
  return `bytes=${offset}-${length === undefined ? "" : offset + length - 1}`;
}
