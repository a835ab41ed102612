import { VerigateUsageError } from "../../sdk/errors.ts";
import { type Command, integerOption, printFields, stringOption } from "../command.ts";
import { saveVerified } from "../download.ts";

export const presign: Command = {
  usage: "<key> [--expires <seconds>] [--single-use] [--storage] [-o <file>]",
  summary:
    "print a download link that needs no key; --storage links straight to object storage; -o also downloads through the link, verified against the integrity block",
  args: [1, 1],
  options: {
    expires: { type: "string" },
    "single-use": { type: "boolean" },
    storage: { type: "boolean" },
    output: { type: "string", short: "o" },
  },
  async run(invocation) {
    const [key = ""] = invocation.args;
    const expiresIn = integerOption(invocation.options, "expires");
    if (expiresIn !== undefined && expiresIn < 1) throw new VerigateUsageError("--expires must be at least 1 second");
    const client = await invocation.client();
    const link = await client.presign(key, {
      ...(expiresIn === undefined ? {} : { expiresIn }),
      singleUse: invocation.options["single-use"] === true,
      mode: invocation.options.storage === true ? "storage" : "gateway",
    });
    const target = stringOption(invocation.options, "output");
    if (target !== undefined) {
      // A storage link serves bytes no gateway checked: the integrity block is the only thing vouching for them.
      const response = await client.fetchPresigned(link);
      await saveVerified(response.body, link.integrity, target);
    }
    if (invocation.json) return invocation.out(JSON.stringify(link, null, 2));
    invocation.out(link.url);
    // The details go to stderr so stdout is the link alone, ready for `curl "$(verigate presign <key>)"`.
    printFields({ ...invocation, out: invocation.warn }, link, [
      ["mode", link.mode],
      ["expires", String(link.expires_at)],
      ["sha256", link.integrity.sha256],
      ["size", String(link.integrity.size)],
      ...(target === undefined ? [] : ([["saved", `${target} (verified)`]] as [string, string][])),
    ]);
  },
};
