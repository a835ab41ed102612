import { VerigateError } from "../errors/index.ts";
import { DEFAULT_PORT_BY_SCHEME } from "./constants.ts";

/** What the derived components and covered fields of a signature are read from. */
export interface SignedMessage {
  method: string;
  authority: string;
  path: string;
  query: string;
  /** The field value, repeated lines combined with ", "; null when the field is absent. */
  header(name: string): string | null;
}

/** The subset of a Fetch `Request` read here, so a request of any runtime fits. */
export type RequestLike = Pick<Request, "method" | "url" | "headers">;

export interface UrlTarget {
  authority: string;
  path: string;
  query: string;
}

/**
 * `publicOrigin` replaces the authority seen by the gateway when a proxy or custom domain sits in front of it,
 * since the client signed the host it addressed.
 */
export function messageFromRequest(request: RequestLike, publicOrigin?: string): SignedMessage {
  const target = splitUrl(request.url);
  return {
    method: request.method,
    authority: publicOrigin === undefined ? target.authority : splitUrl(publicOrigin).authority,
    path: target.path,
    query: target.query,
    header: (name) => request.headers.get(name),
  };
}

/**
 * Splits an absolute URL by slicing the string: RFC 9421 signs the target as sent, while WHATWG `URL`
 * resolves dot segments, re-encodes characters and reports a bare `?` as an empty search.
 */
export function splitUrl(url: string): UrlTarget {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd <= 0) throw new VerigateError("bad_request", `not an absolute URL: ${url}`);
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  const fragmentStart = url.indexOf("#", schemeEnd);
  const rest = url.slice(schemeEnd + 3, fragmentStart === -1 ? undefined : fragmentStart);
  const authorityEnd = rest.search(/[/?]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const target = authorityEnd === -1 ? "" : rest.slice(authorityEnd);
  const queryStart = target.indexOf("?");
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  return {
    authority: withoutDefaultPort(scheme, authority.toLowerCase()),
    // RFC 9421 section 2.2.6: an empty path is signed as "/"; section 2.2.7: an absent query as "?".
    path: path === "" ? "/" : path,
    query: queryStart === -1 ? "?" : target.slice(queryStart),
  };
}

function withoutDefaultPort(scheme: string, authority: string): string {
  const port = DEFAULT_PORT_BY_SCHEME.get(scheme);
  const suffix = `:${port}`;
  return port !== undefined && authority.endsWith(suffix) ? authority.slice(0, -suffix.length) : authority;
}
