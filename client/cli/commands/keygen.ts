import { chmod, writeFile } from "node:fs/promises";
import { VerigateUsageError } from "../../sdk/errors.ts";
import { generateEd25519Jwk } from "../../sdk/keys.ts";
import { type Command, printFields, stringOption } from "../command.ts";
import { keyPathOf } from "../session.ts";

/** Private keys are for their owner alone. */
const KEY_FILE_MODE = 0o600;

export const keygen: Command = {
  usage: "[file] [--kid <keyid>]",
  summary: "create an ed25519 key file (mode 0600; default path: --key / VERIGATE_KEY) and print its keyid and public key",
  args: [0, 1],
  options: { kid: { type: "string" } },
  async run(invocation) {
    const path = invocation.args[0] ?? keyPathOf(invocation.options, process.env);
    if (path === undefined) throw new VerigateUsageError("keygen needs a file: verigate keygen <file>");
    const jwk = await generateEd25519Jwk(stringOption(invocation.options, "kid"));
    try {
      // `wx`: an existing key is never overwritten; losing one locks its owner out.
      await writeFile(path, `${JSON.stringify(jwk, null, 2)}\n`, { mode: KEY_FILE_MODE, flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new VerigateUsageError(`${path} exists; keygen never overwrites a key`);
      throw error;
    }
    // The mode given at creation is reduced by the umask; set it exactly.
    await chmod(path, KEY_FILE_MODE);
    printFields(invocation, { keyid: jwk.kid, public_key: jwk.x, file: path }, [
      ["keyid", jwk.kid],
      ["public_key", jwk.x],
      ["file", path],
    ]);
  },
};
