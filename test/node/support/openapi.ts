import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { OPENAPI_DOCUMENT } from "../../../functions/openapi-document.ts";
import type { WireResponse } from "./wire.ts";

/**
 * Checks real responses against `functions/openapi-document.ts`, strictly: the status must be documented for
 * the operation, every required header present and every documented header valid, the Content-Type one the
 * response lists, a JSON body valid against its schema (which allows no undocumented member), a bodiless
 * response empty, and a problem's `status`, `type` and `request_id` the response's own. A request to a path or
 * method the document does not name may only be answered by a problem.
 *
 * ajv holds the whole document under one id and compiles each schema by its JSON pointer, so `$ref`s resolve
 * where they are written and errors name the schema's place in the document.
 */

/** Any absolute URI: ajv resolves the document's `#/components/...` references against it. */
const DOCUMENT_ID = "https://verigate.invalid/openapi.json";
/** The document's own members: ajv in strict mode refuses unknown keywords, and none of these is a schema to compile. */
const DOCUMENT_KEYWORDS = ["openapi", "info", "tags", "security", "paths", "components"];

interface HeaderSpec {
  required?: boolean;
  schema: { type?: string };
}
interface ResponseSpec {
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
}

/** What a check needs of a response; `body` undefined means not read (a byte stream the document does not type). */
export interface ObservedResponse {
  status: number;
  headers: Headers;
  body: Uint8Array | undefined;
}

/** A part of the document and the JSON pointer (URI fragment) where it is written. */
interface Located<T> {
  at: string;
  value: T;
}

interface Route {
  template: string;
  pattern: RegExp;
  item: Record<string, unknown>;
}

let loaded: { ajv: Ajv2020; routes: Route[]; validators: Map<string, ValidateFunction> } | undefined;

function load(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(DOCUMENT_KEYWORDS);
  ajv.addSchema({ ...OPENAPI_DOCUMENT, $id: DOCUMENT_ID });
  const routes = Object.entries(OPENAPI_DOCUMENT.paths)
    .map(([template, item]) => ({ template, item: item as Record<string, unknown>, pattern: templatePattern(template) }))
    // A literal path wins over a template that could also match it (OpenAPI's own rule).
    .sort((a, b) => Number(a.template.includes("{")) - Number(b.template.includes("{")));
  return (loaded = { ajv, routes, validators: new Map() });
}

/** One JSON pointer segment, escaped for a URI fragment. */
function segment(name: string): string {
  return encodeURIComponent(name.replace(/~/g, "~0").replace(/\//g, "~1"));
}

/** The value at `at`, or what it refers to when it is a `$ref` (the document's references are one level deep). */
function follow<T>(at: string): Located<T> {
  const value = valueAt(at) as { $ref?: unknown };
  return typeof value.$ref === "string" ? { at: value.$ref, value: valueAt(value.$ref) as T } : { at, value: value as T };
}

function valueAt(at: string): unknown {
  const parts = at
    .replace(/^#\//, "")
    .split("/")
    .map((part) => decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~"));
  return parts.reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], OPENAPI_DOCUMENT);
}

function validator(at: string): ValidateFunction {
  const { ajv, validators } = load();
  let validate = validators.get(at);
  if (!validate) validators.set(at, (validate = ajv.compile({ $ref: `${DOCUMENT_ID}${at}` })));
  return validate;
}

/** The response the document gives `method` on `path` for `status`: an operation's (undefined if not listed), or null for an unknown route. */
function lookup(method: string, path: string, status: number): { label: string; response: Located<ResponseSpec> | undefined } | null {
  const route = load().routes.find((candidate) => candidate.pattern.test(path));
  const verb = method.toLowerCase();
  // Hono answers HEAD with a GET route's headers when the route has no HEAD of its own.
  const operationVerb = route && (verb in route.item ? verb : verb === "head" && "get" in route.item ? "get" : undefined);
  if (!route || !operationVerb) return null;
  const at = `#/paths/${segment(route.template)}/${operationVerb}`;
  const { operationId, responses } = valueAt(at) as { operationId: string; responses: Record<string, unknown> };
  const key = [String(status), `${String(status)[0]}XX`, "default"].find((candidate) => candidate in responses);
  return { label: `${operationId} (${method} ${route.template})`, response: key === undefined ? undefined : follow(`${at}/responses/${key}`) };
}

/**
 * `/v1/objects/{key}` as a pattern. A template's last parameter may span `/`, as object keys do; the others are
 * one segment.
 */
function templatePattern(template: string): RegExp {
  const parts = template.split(/(\{[^}]+\})/).filter((part) => part !== "");
  const source = parts
    .map((part, index) => (part.startsWith("{") ? (index === parts.length - 1 ? "(.+)" : "([^/]+)") : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`);
}

/** Every way `observed` departs from the document, for `method` on `target` (a path, with any query). */
export function conformanceErrors(method: string, target: string, observed: ObservedResponse): string[] {
  const path = target.split("?")[0] ?? target;
  const found = lookup(method, path, observed.status);
  const errors: string[] = [];
  const label = found?.label ?? `undocumented ${method} ${path}`;
  const fail = (message: string) => errors.push(`${label} ${observed.status}: ${message}`);
  const contentType = observed.headers.get("content-type");
  const media = contentType?.split(";")[0]?.trim().toLowerCase();
  if (!found) {
    if (media !== "application/problem+json") fail(`only a problem may answer a route the document does not name, got ${contentType}`);
    else checkJson(observed, "#/components/schemas/Problem", fail);
    return errors;
  }
  const { response } = found;
  if (!response) {
    fail("status not documented for this operation");
    return errors;
  }
  for (const name of Object.keys(response.value.headers ?? {})) {
    const header = follow<HeaderSpec>(`${response.at}/headers/${segment(name)}`);
    const value = observed.headers.get(name);
    if (value === null) {
      // RFC 9112 section 6.3: a content-coded body may be delimited by its framing instead of a Content-Length.
      const coded = name.toLowerCase() === "content-length" && observed.headers.has("content-encoding");
      if (header.value.required && !coded) fail(`missing required header ${name}`);
      continue;
    }
    const typed = header.value.schema.type === "integer" && /^\d+$/.test(value) ? Number(value) : value;
    const validate = validator(`${header.at}/schema`);
    if (!validate(typed)) fail(`header ${name}: ${JSON.stringify(value)} ${describe(validate)}`);
  }
  const content = Object.keys(response.value.content ?? {});
  if (content.length === 0) {
    if (contentType !== null && method !== "HEAD") fail(`documented without a body, but has Content-Type ${contentType}`);
    if (observed.body !== undefined && observed.body.length > 0) fail(`documented without a body, but has ${observed.body.length} bytes`);
    return errors;
  }
  const key = media === undefined ? undefined : mediaKey(content, media);
  if (key === undefined) {
    fail(`Content-Type ${contentType} is none of ${content.join(", ")}`);
    return errors;
  }
  if (method === "HEAD") {
    if (observed.body !== undefined && observed.body.length > 0) fail("a HEAD response has a body");
  } else if (isJson(key)) {
    checkJson(observed, `${response.at}/content/${segment(key)}/schema`, fail);
  }
  return errors;
}

/** Throws, naming every mismatch, unless `response` is what the document says `method` on `target` answers. */
export async function checkResponse(method: string, target: string, response: Response): Promise<void> {
  const media = response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  // Read only what the document types (JSON) or says is absent: a download's bytes are left to the caller.
  const read = method !== "HEAD" && (media === undefined || isJson(media));
  const body = read ? new Uint8Array(await response.clone().arrayBuffer()) : undefined;
  throwIfAny(conformanceErrors(method, target, { status: response.status, headers: response.headers, body }));
}

/** `checkResponse` for a response read off the socket; a body that ended short is judged by its headers only. */
export async function checkWireResponse(method: string, target: string, response: WireResponse): Promise<void> {
  const headers = new Headers(response.headers);
  const media = headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  const body = response.complete && (media === undefined || isJson(media)) ? response.body : undefined;
  throwIfAny(conformanceErrors(method, target, { status: response.status, headers, body }));
}

function throwIfAny(errors: string[]): void {
  if (errors.length > 0) throw new Error(`response does not match the OpenAPI document:\n  ${errors.join("\n  ")}`);
}

/** Checks a JSON body against the schema at `schemaAt`, and a problem against its response. */
function checkJson(observed: ObservedResponse, schemaAt: string, fail: (message: string) => void): void {
  if (observed.body === undefined) return;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(observed.body));
  } catch {
    fail(`body is not JSON: ${JSON.stringify(new TextDecoder().decode(observed.body.subarray(0, 200)))}`);
    return;
  }
  const validate = validator(schemaAt);
  if (!validate(body)) fail(`body ${JSON.stringify(body)} ${describe(validate)}`);
  if (observed.headers.get("content-type")?.startsWith("application/problem+json")) {
    const { status, type, code, request_id: requestId } = body as Record<string, unknown>;
    if (status !== observed.status) fail(`problem status ${String(status)} is not the response's`);
    if (type !== `urn:verigate:error:${String(code)}`) fail(`problem type ${String(type)} does not name its code ${String(code)}`);
    if (requestId !== observed.headers.get("x-request-id")) fail(`problem request_id ${String(requestId)} is not the X-Request-Id header`);
  }
}

/** The `content` key that `media` falls under: itself, then `type/*`, then `*\/*`. */
function mediaKey(keys: string[], media: string): string | undefined {
  return [media, `${media.split("/")[0]}/*`, "*/*"].find((candidate) => keys.includes(candidate));
}

function isJson(media: string): boolean {
  return media === "application/json" || media.endsWith("+json");
}

function describe(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`).join("; ");
}
