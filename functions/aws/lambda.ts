import { loadConfig } from "../../shared/config/index.ts";
import { createApp } from "../app.ts";
import { runSweep } from "../sweep.ts";
import { awsBackends } from "./backends.ts";
import type { Backends } from "../context.ts";
import { type LambdaBindings, streamingHandler } from "./lambda-stream.ts";

/** Built on the first invocation and kept for the execution environment's life, SDK connections included. */
let backends: Backends | undefined;

function lambdaBackends(): Backends {
  backends ??= awsBackends(loadConfig(process.env, { runtime: "lambda" }), {
    // Set by the Function URL from the connection; a client cannot choose it.
    clientAddress: (c) => (c.env as LambdaBindings).event.requestContext.http.sourceIp,
  });
  return backends;
}

const app = createApp(lambdaBackends);

/** The Function URL handler (`InvokeMode: RESPONSE_STREAM`): every route of the gateway, downloads streamed. */
export const handler = awslambda.streamifyResponse(streamingHandler((request, env) => app.fetch(request, env)));

/** The garbage sweep, run by a schedule (deploy/template.yaml) as the Workers cron trigger runs it. */
export async function sweep(): Promise<void> {
  await runSweep(lambdaBackends());
}
