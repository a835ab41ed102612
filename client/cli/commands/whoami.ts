import type { Command } from "../command.ts";
import { printFields } from "../command.ts";

export const whoami: Command = {
  usage: "",
  summary: "check the endpoint, key and clock: print the keyid, algorithm and scopes the gateway sees",
  args: [0, 0],
  async run(invocation) {
    const me = await (await invocation.client()).whoami();
    printFields(invocation, me, [
      ["keyid", me.keyid],
      ["alg", me.alg],
      ["admin", me.admin ? "yes" : "no"],
      ...me.scopes.map((scope): [string, string] => ["scope", `${JSON.stringify(scope.prefix)} ${scope.actions.join(",")}`]),
    ]);
  },
};
