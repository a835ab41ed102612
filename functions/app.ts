import { Hono, type Context } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { splitUrl } from "../shared/signature/index.ts";
import type { AppEnv, Backends } from "./context.ts";
import { adminEncryption } from "./routes/admin-encryption.ts";
import { health } from "./routes/health.ts";
import { keys } from "./routes/keys.ts";
import { lfs } from "./routes/lfs.ts";
import { lfsTokens } from "./routes/lfs-tokens.ts";
import { openapi } from "./routes/openapi.ts";
import { objects } from "./routes/objects.ts";
import { download, redactLinkToken } from "./routes/links.ts";
import { plans } from "./routes/plans.ts";
import { presign } from "./routes/presign.ts";
import { uploads } from "./routes/uploads.ts";
import { refuseUnsafeConfig } from "./middleware/guard.ts";
import { limitClients } from "./middleware/rate-limit.ts";
import { limitInFlight } from "./middleware/in-flight.ts";
import { onNotFound, onProblem } from "./middleware/problems.ts";
import { signedRequests } from "./middleware/auth.ts";
import { whoami } from "./routes/whoami.ts";

/** How an entry file supplies the backends for a request (Workers bindings arrive per request in `c.env`). */
export type ResolveBackends = (c: Context<AppEnv>) => Backends;

/**
 * Routes match the raw request path, never a percent-decoded one: object keys are cut from the raw path
 * (and signatures cover it), so `/v1/%6Fbjects/x` must not reach the object routes with its key shifted.
 */
function rawPath(request: Request): string {
  return splitUrl(request.url).path;
}

/**
 * The whole gateway as one Hono app, the same on every runtime. Entry files differ only in `resolve`.
 * The request id is always the gateway's own, so a client cannot plant ids in the operator's logs.
 *
 * Which checks apply to a route is decided by registration order alone: Hono runs the handlers that match a
 * request in the order they were added, and a route that answers ends the chain. So `/healthz` is added
 * before the configuration guard and the rate limiter, and gateway links before the signature check; no
 * middleware looks at how a path is spelled to decide whether it applies.
 */
export function createApp(resolve: ResolveBackends): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ getPath: rawPath });
  app.use(requestId({ headerName: "", generator: () => crypto.randomUUID() }));
  app.use(async function exposeRequestId(c, next) {
    await next();
    // After `next`: a header set before it is lost when a handler returns its own Response (object downloads do).
    c.header("X-Request-Id", c.var.requestId);
  });
  app.use(secureHeaders());
  app.use(async function injectBackends(c, next) {
    for (const [name, value] of Object.entries(resolve(c))) c.set(name as keyof Backends, value);
    await next();
  });
  // Link and LFS action tokens are bearer secrets: from here on every log line names them by a hash.
  app.use("/v1/dl/:token", redactLinkToken);
  app.on(["GET", "HEAD", "PUT", "POST"], ["/lfs/:repo/download/:token", "/lfs/:repo/upload/:token", "/lfs/:repo/verify/:token"], redactLinkToken);

  // Open to monitors: a misconfigured or rate-limited gateway still says what is wrong with it.
  app.route("/healthz", health);
  app.route("/openapi.json", openapi);
  app.use(refuseUnsafeConfig());
  app.use(limitClients());
  // Before the link and signature checks: a shed transfer has read no body byte and spent no replay claim.
  // One budget for every transfer: object reads and writes, gateway links, and upload-session parts.
  const inFlight = limitInFlight();
  app.on(["GET", "PUT"], ["/v1/objects/*", "/v1/dl/*"], inFlight);
  app.on("PUT", "/v1/uploads/*", inFlight);
  app.on(["GET", "PUT"], ["/lfs/:repo/download/*", "/lfs/:repo/upload/*"], inFlight);

  // Git LFS speaks HTTP Basic with LFS tokens and action tokens, never message signatures (PROTOCOL section 8).
  app.route("/lfs", lfs);

  // Gateway links carry their own MAC and need no signature.
  app.route("/v1/dl", download);
  app.use("/v1/*", signedRequests());
  app.route("/v1/whoami", whoami);
  app.route("/v1/keys", keys);
  app.route("/v1/admin/encryption", adminEncryption);
  app.route("/v1/objects", objects);
  app.route("/v1/presign", presign);
  app.route("/v1/plans", plans);
  app.route("/v1/uploads", uploads);
  app.route("/v1/lfs/tokens", lfsTokens);

  app.onError(onProblem);
  app.notFound(onNotFound);
  return app;
}
