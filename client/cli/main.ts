import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { VERSION } from "../../shared/version.ts";
import type { VerigateClient } from "../sdk/client.ts";
import { VerigateUsageError } from "../sdk/errors.ts";
import type { Command } from "./command.ts";
import { adminRewrap } from "./commands/admin.ts";
import { keygen } from "./commands/keygen.ts";
import { keysAdd, keysGet, keysList, keysRevoke } from "./commands/keys.ts";
import { lfsTokenCreate, lfsTokenList, lfsTokenRevoke } from "./commands/lfs.ts";
import { get, head, ls, put, rm } from "./commands/objects.ts";
import { presign } from "./commands/presign.ts";
import { sign } from "./commands/sign.ts";
import { whoami } from "./commands/whoami.ts";
import { describeFailure, EXIT_CODE_MEANINGS, EXIT_OK, EXIT_USAGE, exitCodeOf } from "./exit-codes.ts";
import { openClient } from "./session.ts";

const COMMANDS: ReadonlyMap<string, Command> = new Map([
  ["keygen", keygen],
  ["whoami", whoami],
  ["put", put],
  ["get", get],
  ["head", head],
  ["ls", ls],
  ["rm", rm],
  ["presign", presign],
  ["sign", sign],
  ["keys add", keysAdd],
  ["keys list", keysList],
  ["keys get", keysGet],
  ["keys revoke", keysRevoke],
  ["lfs token create", lfsTokenCreate],
  ["lfs token list", lfsTokenList],
  ["lfs token revoke", lfsTokenRevoke],
  ["admin rewrap", adminRewrap],
]);

/** Command groups and how many words name one of their commands (`keys add`, `lfs token create`). */
const GROUP_WORDS: ReadonlyMap<string, number> = new Map([
  ["keys", 2],
  ["lfs", 3],
  ["admin", 2],
]);

const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  endpoint: { type: "string" },
  key: { type: "string", short: "k" },
  "clock-offset": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

const GLOBAL_HELP = `options of every command:
  --endpoint <url>        the gateway (or VERIGATE_ENDPOINT)
  -k, --key <file>        private JWK key file (or VERIGATE_KEY)
  --clock-offset <s>      seconds added to this clock when signing (or VERIGATE_CLOCK_OFFSET)
  --json                  print results as JSON
  -h, --help

exit codes:
${EXIT_CODE_MEANINGS.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`).join("\n")}`;

export interface Io {
  out(text: string): void;
  warn(text: string): void;
  env: NodeJS.ProcessEnv;
}

/** Runs one CLI invocation and returns its exit code (see exit-codes.ts); never throws. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    (first === undefined ? io.warn : io.out)(usage());
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === "--version") {
    io.out(VERSION);
    return EXIT_OK;
  }
  const name = argv.slice(0, GROUP_WORDS.get(first) ?? 1).join(" ");
  const command = COMMANDS.get(name);
  if (command === undefined) {
    io.warn(`verigate: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(argv.slice(name.split(" ").length)),
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true) {
      io.out(`usage: verigate ${name} ${command.usage}\n\n${command.summary}\n\n${GLOBAL_HELP}`);
      return EXIT_OK;
    }
    const [min, max] = command.args;
    if (positionals.length < min || positionals.length > max) {
      throw new VerigateUsageError(`usage: verigate ${name} ${command.usage}`);
    }
    let client: Promise<VerigateClient> | undefined;
    await command.run({
      args: positionals,
      options: values,
      json: values.json === true,
      client: () => (client ??= openClient(values, io.env, io.warn)),
      out: io.out,
      warn: io.warn,
    });
    return EXIT_OK;
  } catch (error) {
    io.warn(`verigate: ${describeFailure(error)}`);
    return exitCodeOf(error);
  }
}

/**
 * `parseArgs` refuses `--clock-offset -3600` as ambiguous; a negative number can only be that option's value,
 * so it is joined to it.
 */
function joinNegativeValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i] === "--clock-offset" && next !== undefined && /^-\d+$/.test(next)) joined.push(`--clock-offset=${args[++i]}`);
    else joined.push(args[i] ?? "");
  }
  return joined;
}

function usage(): string {
  const lines = [...COMMANDS].map(([name, command]) => `  ${name} ${command.usage}\n      ${command.summary}`);
  return `usage: verigate <command> [arguments] [options]
       verigate --version

commands:
${lines.join("\n")}

${GLOBAL_HELP}`;
}
