import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { VerigateClient } from "../../../client/sdk/client.ts";
import { type Ed25519PrivateJwk, generateEd25519Key, importJwk } from "../../../client/sdk/keys.ts";
import { type InterruptingProxy, startInterruptingProxy } from "./interrupting-proxy.ts";
import type { GatewayHarness } from "./wire.ts";

/** A gateway behind an interrupting proxy, with an admin client and a user key the CLI signs with, all through the proxy. */
export interface ProxiedGateway {
  gateway: GatewayHarness;
  proxy: InterruptingProxy;
  admin: VerigateClient;
  /** An SDK client with the user's key, as the CLI signs. */
  user: VerigateClient;
  userJwk: Ed25519PrivateJwk;
  /** Writes the user's key file into `dir` (mode 0600); its path. */
  writeUserKey(dir: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `start` with `vars` and `PUBLIC_ORIGIN` on the proxy (clients sign for it), and registers a user key with read and write on every key. */
export async function startProxiedGateway(
  start: (vars?: Record<string, string>) => Promise<GatewayHarness>,
  vars: Record<string, string>,
): Promise<ProxiedGateway> {
  const proxy = await startInterruptingProxy();
  const gateway = await start({ ...vars, PUBLIC_ORIGIN: proxy.origin });
  proxy.forwardTo(gateway.origin);
  const admin = new VerigateClient({ endpoint: proxy.origin, key: { keyid: gateway.admin.keyid, signingKey: gateway.admin.key } });
  const { jwk: userJwk } = await generateEd25519Key();
  await admin.keys.create({ keyid: userJwk.kid, alg: "ed25519", public_key: userJwk.x, scopes: [{ prefix: "", actions: ["read", "write"] }] });
  const user = new VerigateClient({ endpoint: proxy.origin, key: await importJwk(userJwk) });
  return {
    gateway,
    proxy,
    admin,
    user,
    userJwk,
    async writeUserKey(dir) {
      const path = join(dir, "key.jwk");
      await writeFile(path, JSON.stringify(userJwk), { mode: 0o600 });
      return path;
    },
    async stop() {
      await proxy.stop();
      await gateway.stop();
    },
  };
}
