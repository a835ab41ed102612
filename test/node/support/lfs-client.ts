import { expect } from "vitest";
import { checkResponse } from "./openapi.ts";
import type { GatewayHarness } from "./wire.ts";

/** The media type of git-lfs requests and answers. */
export const LFS_JSON = "application/vnd.git-lfs+json";

export interface LfsToken {
  id: string;
  token: string;
  lfs_url: string;
}

export interface LfsAction {
  href: string;
  header?: Record<string, string>;
  expires_in: number;
  expires_at: string;
}

export interface LfsBatchObject {
  oid: string;
  size: number;
  authenticated?: boolean;
  actions?: Record<string, LfsAction>;
  error?: { code: number; message: string };
}

/**
 * Mints an LFS token for `repo` through the signed `POST /v1/lfs/tokens` (with the admin key). Sent with the signed
 * headers and plain fetch: the token routes' own suite checks their answers against the OpenAPI document.
 */
export async function mintLfsToken(gateway: GatewayHarness, repo: string, access: "read" | "write"): Promise<LfsToken> {
  const body = new TextEncoder().encode(JSON.stringify({ repo, access }));
  const headers = await gateway.signedHeaders("POST", "/v1/lfs/tokens", { signedBody: body, headers: { "content-type": "application/json" } });
  const response = await fetch(`${gateway.origin}/v1/lfs/tokens`, { method: "POST", headers, body });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as LfsToken;
}

/** Revokes LFS token `id` through the signed `DELETE /v1/lfs/tokens/{id}`. */
export async function revokeLfsToken(gateway: GatewayHarness, id: string): Promise<void> {
  const headers = await gateway.signedHeaders("DELETE", `/v1/lfs/tokens/${id}`);
  const response = await fetch(`${gateway.origin}/v1/lfs/tokens/${id}`, { method: "DELETE", headers });
  expect(response.status, await response.clone().text()).toBe(204);
}

export function basicAuth(token: string): string {
  return `Basic ${btoa(`git:${token}`)}`;
}

/** A request as git-lfs sends it to an LFS route (no signature), its answer checked against the OpenAPI document. */
export async function lfsFetch(gateway: GatewayHarness, url: string, init: RequestInit = {}): Promise<Response> {
  const href = new URL(url, gateway.origin).href;
  const response = await fetch(href, init);
  await checkResponse(init.method ?? "GET", href.slice(new URL(href).origin.length), response);
  return response;
}

/** `POST <lfs_url>/objects/batch` with git-lfs's headers, as `token`. */
export function batch(gateway: GatewayHarness, repo: string, token: string | null, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return lfsFetch(gateway, `/lfs/${repo}/objects/batch`, {
    method: "POST",
    headers: { accept: LFS_JSON, "content-type": LFS_JSON, ...(token === null ? {} : { authorization: basicAuth(token) }), ...headers },
    body: JSON.stringify(body),
  });
}

/** The objects of a 200 batch answer. */
export async function batchObjects(
  gateway: GatewayHarness,
  repo: string,
  token: string,
  operation: "upload" | "download",
  objects: { oid: string; size: number }[],
): Promise<LfsBatchObject[]> {
  const response = await batch(gateway, repo, token, { operation, transfers: ["basic"], objects, hash_algo: "sha256" });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get("content-type")).toBe(LFS_JSON);
  return ((await response.json()) as { objects: LfsBatchObject[] }).objects;
}

/** The one object of a batch answer for one object. */
export async function batchOne(
  gateway: GatewayHarness,
  repo: string,
  token: string,
  operation: "upload" | "download",
  object: { oid: string; size: number },
): Promise<LfsBatchObject> {
  const [answer] = await batchObjects(gateway, repo, token, operation, [object]);
  return answer!;
}

/** Follows an action as git-lfs does: its href, its headers, no Authorization (`authenticated: true`). */
export function followAction(gateway: GatewayHarness, action: LfsAction, method: string, init: RequestInit = {}): Promise<Response> {
  return lfsFetch(gateway, action.href, { ...init, method, headers: { ...action.header, ...(init.headers as Record<string, string> | undefined) } });
}
