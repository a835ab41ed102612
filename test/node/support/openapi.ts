import { dereference } from "@readme/openapi-parser";
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
 */

interface HeaderSpec {
  required?: boolean;
  schema: { type?: string };
}
interface ResponseSpec {
  headers?: Record<string, HeaderSpec>;
  content?: Record<string, { schema: object }>;
}
interface OperationSpec {
  operationId: string;
  responses: Record<string, ResponseSpec>;
}
type PathItem = Partial<Record<string, OperationSpec>>;
interface Document {
  paths: Record<string, PathItem>;
  components: { schemas: { Problem: object } };
}

/** What a check needs of a response; `body` undefined means not read (a byte stream the document does not type). */
export interface ObservedResponse {
  status: number;
  headers: Headers;
  body: Uint8Array | undefined;
}

interface Route {
  template: string;
  pattern: RegExp;
  item: PathItem;
}

interface Checker {
  /** The response the document gives `method` on `path` for `status`: an operation's, or null for an unknown route. */
  lookup(method: string, path: string, status: number): { label: string; spec: ResponseSpec | undefined } | null;
  validator(schema: object): ValidateFunction;
  problem: object;
}

let loading: Promise<Checker> | undefined;

function checker(): Promise<Checker> {
  loading ??= (async () => {
    const document = (await dereference(structuredClone(OPENAPI_DOCUMENT) as never)) as unknown as Document;
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(ajv);
    const compiled = new WeakMap<object, ValidateFunction>();
    const routes = Object.entries(document.paths)
      .map(([template, item]) => ({ template, item, pattern: templatePattern(template) }))
      // A literal path wins over a template that could also match it (OpenAPI's own rule).
      .sort((a, b) => Number(a.template.includes("{")) - Number(b.template.includes("{")));
    return {
      lookup(method, path, status) {
        const route = routes.find((candidate: Route) => candidate.pattern.test(path));
        const verb = method.toLowerCase();
        // Hono answers HEAD with a GET route's headers when the route has no HEAD of its own.
        const operation = route?.item[verb] ?? (verb === "head" ? route?.item.get : undefined);
        if (!route || !operation) return null;
        const spec = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
        return { label: `${operation.operationId} (${method} ${route.template})`, spec };
      },
      validator(schema) {
        let validate = compiled.get(schema);
        if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
        return validate;
      },
      problem: document.components.schemas.Problem,
    };
  })();
  return loading;
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
export async function conformanceErrors(method: string, target: string, observed: ObservedResponse): Promise<string[]> {
  const { lookup, validator, problem } = await checker();
  const path = target.split("?")[0] ?? target;
  const found = lookup(method, path, observed.status);
  const errors: string[] = [];
  const label = found?.label ?? `undocumented ${method} ${path}`;
  const fail = (message: string) => errors.push(`${label} ${observed.status}: ${message}`);
  const contentType = observed.headers.get("content-type");
  const media = contentType?.split(";")[0]?.trim().toLowerCase();
  if (!found) {
    if (media !== "application/problem+json") fail(`only a problem may answer a route the document does not name, got ${contentType}`);
    else checkJson(observed, problem, validator, fail);
    return errors;
  }
  const { spec } = found;
  if (!spec) {
    fail("status not documented for this operation");
    return errors;
  }
  for (const [name, header] of Object.entries(spec.headers ?? {})) {
    const value = observed.headers.get(name);
    if (value === null) {
      if (header.required) fail(`missing required header ${name}`);
      continue;
    }
    const typed = header.schema.type === "integer" && /^\d+$/.test(value) ? Number(value) : value;
    const validate = validator(header.schema);
    if (!validate(typed)) fail(`header ${name}: ${JSON.stringify(value)} ${describe(validate)}`);
  }
  if (!spec.content) {
    if (contentType !== null && method !== "HEAD") fail(`documented without a body, but has Content-Type ${contentType}`);
    if (observed.body !== undefined && observed.body.length > 0) fail(`documented without a body, but has ${observed.body.length} bytes`);
    return errors;
  }
  const key = media === undefined ? undefined : mediaKey(Object.keys(spec.content), media);
  if (key === undefined) {
    fail(`Content-Type ${contentType} is none of ${Object.keys(spec.content).join(", ")}`);
    return errors;
  }
  if (method === "HEAD") {
    if (observed.body !== undefined && observed.body.length > 0) fail("a HEAD response has a body");
  } else if (isJson(key)) {
    checkJson(observed, spec.content[key]!.schema, validator, fail);
  }
  return errors;
}

/** Throws, naming every mismatch, unless `response` is what the document says `method` on `target` answers. */
export async function checkResponse(method: string, target: string, response: Response): Promise<void> {
  const media = response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  // Read only what the document types (JSON) or says is absent: a download's bytes are left to the caller.
  const read = method !== "HEAD" && (media === undefined || isJson(media));
  const body = read ? new Uint8Array(await response.clone().arrayBuffer()) : undefined;
  throwIfAny(await conformanceErrors(method, target, { status: response.status, headers: response.headers, body }));
}

/** `checkResponse` for a response read off the socket; a body that ended short is judged by its headers only. */
export async function checkWireResponse(method: string, target: string, response: WireResponse): Promise<void> {
  const headers = new Headers(response.headers);
  const media = headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  const body = response.complete && (media === undefined || isJson(media)) ? response.body : undefined;
  throwIfAny(await conformanceErrors(method, target, { status: response.status, headers, body }));
}

function throwIfAny(errors: string[]): void {
  if (errors.length > 0) throw new Error(`response does not match the OpenAPI document:\n  ${errors.join("\n  ")}`);
}

function checkJson(observed: ObservedResponse, schema: object, validator: Checker["validator"], fail: (message: string) => void): void {
  if (observed.body === undefined) return;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(observed.body));
  } catch {
    fail(`body is not JSON: ${JSON.stringify(new TextDecoder().decode(observed.body.subarray(0, 200)))}`);
    return;
  }
  const validate = validator(schema);
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
