import type { LambdaFunctionURLEvent } from "aws-lambda";

/** Methods whose requests cannot carry a body in the Fetch API. */
const BODYLESS_METHODS = new Set(["GET", "HEAD"]);

/**
 * The request a Function URL event (payload format 2.0) describes, as a server on the wire would see it.
 * `rawPath` and `rawQueryString` arrive still percent-encoded from a Function URL, which the signature's
 * `@path`/`@query` and the object key rules need (API Gateway HTTP APIs decode `rawPath`, so they are not a
 * supported front). The Function URL buffered the whole body, so its length is known even when the client
 * streamed it without a Content-Length.
 */
export function requestFromEvent(event: LambdaFunctionURLEvent): Request {
  const { domainName, http } = event.requestContext;
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, asWireText(value));
  }
  if (event.cookies?.length) headers.set("cookie", event.cookies.join("; "));
  const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
  const url = `https://${domainName}${event.rawPath}${query}`;
  if (event.body === undefined || BODYLESS_METHODS.has(http.method)) return new Request(url, { method: http.method, headers });
  const body = event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
  if (!headers.has("content-length")) headers.set("content-length", String(body.byteLength));
  return new Request(url, { method: http.method, headers, body });
}

/**
 * Lambda hands header values over as decoded UTF-8 text, while an HTTP server sees their raw bytes as
 * Latin-1 (Workers and Node alike). Re-encoding gives the gateway the same text on every runtime, and a
 * value Headers would refuse (code points above U+00FF) becomes bytes it accepts.
 */
function asWireText(value: string): string {
  return /[^\x00-\x7f]/.test(value) ? Buffer.from(value, "utf8").toString("latin1") : value;
}
