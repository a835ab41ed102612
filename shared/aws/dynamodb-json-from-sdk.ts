import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBJsonClient } from "./dynamodb-json-client.ts";

/**
 * The lean client configured exactly as `sdk` is: its region, its endpoint (the custom one, or what the SDK's own
 * endpoint rules give for the region, FIPS and dual-stack settings), its attempt count, and its credentials provider,
 * which is the SDK's default chain (environment variables with the session token, as a Lambda execution role sets
 * them; then the shared files, SSO, container and instance metadata), memoised and refreshed before expiry.
 * Account-based endpoints are not used: the regional endpoint serves every account.
 */
export function dynamoDBJsonClientLike(sdk: DynamoDBClient): DynamoDBJsonClient {
  const { config } = sdk;
  return new DynamoDBJsonClient({
    credentials: () => config.credentials(),
    settings: async () => {
      const region = await config.region();
      const custom = config.isCustomEndpoint ? await config.endpoint?.() : undefined;
      const endpoint = custom
        ? new URL(`${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ""}${custom.path}`)
        : config.endpointProvider({
            Region: region,
            UseFIPS: await config.useFipsEndpoint(),
            UseDualStack: await config.useDualstackEndpoint(),
            AccountIdEndpointMode: "disabled",
          }).url;
      return { endpoint, region, maxAttempts: await config.maxAttempts() };
    },
  });
}
