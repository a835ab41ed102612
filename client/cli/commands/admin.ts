import type { RewrapProgress } from "../../sdk/types.ts";
import { type Command, type Invocation, printFields } from "../command.ts";

/**
 * `verigate admin rewrap`: one slice of the encryption rewrap pass (PROTOCOL section 5), or with `--until-done`
 * slices until the pass is done, printing progress after each on stderr. Prints the last progress.
 */
export const adminRewrap: Command = {
  usage: "[--until-done]",
  summary: "advance the encryption key rotation: re-wrap data keys and re-sign manifests under the current key (admin)",
  args: [0, 0],
  options: { "until-done": { type: "boolean" } },
  async run(invocation) {
    const client = await invocation.client();
    let progress = await client.encryption.rewrap();
    while (invocation.options["until-done"] === true && progress.state === "running") {
      invocation.warn(`rewrap: ${progress.scanned} scanned, ${progress.rewrapped} re-wrapped, ${progress.signed} signed, at ${progress.cursor ?? "-"}`);
      progress = await client.encryption.rewrap();
    }
    printProgress(invocation, progress);
  },
};

function printProgress(invocation: Invocation, progress: RewrapProgress): void {
  printFields(invocation, progress, [
    ["state", progress.state],
    ["target_kid", progress.target_kid ?? "-"],
    ["scanned", String(progress.scanned)],
    ["rewrapped", String(progress.rewrapped)],
    ["signed", String(progress.signed)],
    ["failed", String(progress.failed)],
    ["unsigned", String(progress.unsigned)],
    ...Object.entries(progress.remaining_by_kid).map(([kid, count]): [string, string] => ["remaining", `${kid} ${count}`]),
    ["cursor", progress.cursor ?? "-"],
  ]);
}
