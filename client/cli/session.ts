import { streamingFetch } from "./stream-fetch.ts";
import { readFile, stat } from "node:fs/promises";
import { VerigateClient } from "../sdk/client.ts";
import { VerigateUsageError } from "../sdk/errors.ts";
import { type ClientKey, importJwk } from "../sdk/keys.ts";
import { integerOption, type OptionValues, stringOption } from "./command.ts";

/** Group and other permission bits: a private key readable by them is as good as published on a shared machine. */
const SHARED_PERMISSION_BITS = 0o077;

/** The client of `--endpoint`/`VERIGATE_ENDPOINT`, `--key`/`VERIGATE_KEY` and `--clock-offset`/`VERIGATE_CLOCK_OFFSET`. */
export async function openClient(options: OptionValues, env: NodeJS.ProcessEnv, warn: (text: string) => void): Promise<VerigateClient> {
  const endpoint = stringOption(options, "endpoint") ?? env.VERIGATE_ENDPOINT;
  if (!endpoint) throw new VerigateUsageError("no endpoint: pass --endpoint <url> or set VERIGATE_ENDPOINT");
  const keyPath = keyPathOf(options, env);
  if (!keyPath) throw new VerigateUsageError("no key: pass --key <file> or set VERIGATE_KEY");
  const clockOffsetSeconds = integerOption(options, "clock-offset", stringOption(options, "clock-offset") ?? env.VERIGATE_CLOCK_OFFSET) ?? 0;
  return new VerigateClient({ endpoint, key: await readKeyFile(keyPath, warn), clockOffsetSeconds, fetch: streamingFetch });
}

export function keyPathOf(options: OptionValues, env: NodeJS.ProcessEnv): string | undefined {
  return stringOption(options, "key") ?? (env.VERIGATE_KEY || undefined);
}

/** Loads a private JWK key file, warning (as ssh does, without refusing) when others may read it. */
async function readKeyFile(path: string, warn: (text: string) => void): Promise<ClientKey> {
  const text = await readFile(path, "utf8");
  if (process.platform !== "win32" && ((await stat(path)).mode & SHARED_PERMISSION_BITS) !== 0) {
    warn(`warning: the key file ${path} is readable by other users; chmod 600 it`);
  }
  return importJwk(parseJson(text, path));
}

/** A JSON file the user named; unparsable content is their mistake to fix, not an I/O failure. */
export async function readJsonFile(path: string): Promise<unknown> {
  return parseJson(await readFile(path, "utf8"), path);
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new VerigateUsageError(`${path} is not JSON`);
  }
}
