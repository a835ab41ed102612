import { join } from "node:path";
import { generateEd25519Key } from "../../sdk/keys.ts";
import { type Command, printFields, stringOption } from "../command.ts";
import { configDirectory } from "../config-dir.ts";
import { writeKeyFile } from "../key-file.ts";
import { keyPathOf } from "../session.ts";

export const keygen: Command = {
  usage: "[file] [--kid <keyid>]",
  summary: "create an ed25519 key file (mode 0600) and print its keyid and public key; default file: --key / VERIGATE_KEY, else ~/.config/verigate/<keyid>.jwk",
  args: [0, 1],
  options: { kid: { type: "string" } },
  async run(invocation) {
    const { jwk } = await generateEd25519Key(stringOption(invocation.options, "kid"));
    // Never the working directory by default: in a clone, that is where `git add .` would pick the key up.
    const path = invocation.args[0] ?? keyPathOf(invocation.options, process.env) ?? join(configDirectory(), `${jwk.kid}.jwk`);
    await writeKeyFile(path, jwk, invocation.warn);
    printFields(invocation, { keyid: jwk.kid, public_key: jwk.x, file: path }, [
      ["keyid", jwk.kid],
      ["public_key", jwk.x],
      ["file", path],
    ]);
  },
};
