import { Hono, type Context } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv, Backends } from "./context.ts";
import { health } from "./health.ts";
import { keys } from "./keys.ts";
import { objects } from "./objects.ts";
import { download, presign } from "./presign.ts";
import { refuseUnsafeConfig } from "./middleware/guard.ts";
import { limitClients } from "./middleware/rate-limit.ts";
import { onNotFound, onProblem } from "./middleware/problems.ts";
import { signedRequests } from "./middleware/auth.ts";
import { whoami } from "./whoami.ts";

/** How an entry file supplies the backends for a request (Workers bindings arrive per request in `c.env`). */
export type ResolveBackends = (c: Context<AppEnv>) => Backends;

/**
 * The whole gateway as one Hono app, the same on every runtime. Entry files differ only in `resolve`.
 * The request id is always the gateway's own, so a client cannot plant ids in the operator's logs.
 */
export function createApp(resolve: ResolveBackends): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
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
  app.use(refuseUnsafeConfig());
  app.use(limitClients());

  app.route("/healthz", health);
  // Every /v1 route is signed except gateway download links, which carry their own MAC.
  const authenticate = signedRequests();
  app.use("/v1/*", async (c, next) => (c.req.path.startsWith("/v1/dl/") ? next() : authenticate(c, next)));
  app.route("/v1/whoami", whoami);
  app.route("/v1/keys", keys);
  app.route("/v1/objects", objects);
  app.route("/v1/presign", presign);
  app.route("/v1/dl", download);

  app.onError(onProblem);
  app.notFound(onNotFound);
  return app;
}
