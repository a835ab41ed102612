import type { CreatedLfsToken } from "../../sdk/types.ts";
import { type Command, integerOption, printFields, stringOption } from "../command.ts";

export const lfsTokenCreate: Command = {
  usage: "<repo> [--write] [--expires <seconds>]",
  summary: "mint an LFS token for a repository (read, or --write to push and lock too) and print the git config lines that use it",
  args: [1, 1],
  options: { write: { type: "boolean" }, expires: { type: "string" } },
  async run(invocation) {
    const expiresIn = integerOption(invocation.options, "expires");
    const created = await (
      await invocation.client()
    ).createLfsToken(invocation.args[0] ?? "", {
      access: invocation.options.write === true ? "write" : "read",
      ...(expiresIn === undefined ? {} : { expiresIn }),
    });
    printFields(invocation, created, [
      ["id", created.id],
      ["repo", created.repo],
      ["access", created.access],
      ["expires_at", created.expires_at],
      ["token", `${created.token} (shown once)`],
    ]);
    if (invocation.json) return;
    invocation.out(`\nin the repository:\n${gitConfigLines(created).join("\n")}`);
  },
};

export const lfsTokenList: Command = {
  usage: "[--repo <repo>]",
  summary: "list LFS tokens: every one for an admin key, else those this key minted",
  args: [0, 0],
  options: { repo: { type: "string" } },
  async run(invocation) {
    const repo = stringOption(invocation.options, "repo");
    const tokens = await (await invocation.client()).listLfsTokens(repo === undefined ? {} : { repo });
    if (invocation.json) return invocation.out(JSON.stringify(tokens, null, 2));
    for (const token of tokens) invocation.out(`${token.id}  ${token.repo}  ${token.access}  expires ${token.expires_at}  by ${token.keyid}`);
  },
};

export const lfsTokenRevoke: Command = {
  usage: "<id>",
  summary: "revoke an LFS token (admin, or the key that minted it)",
  args: [1, 1],
  async run(invocation) {
    const id = invocation.args[0] ?? "";
    await (await invocation.client()).revokeLfsToken(id);
    printFields(invocation, { id, status: "revoked" }, [["revoked", id]]);
  },
};

/**
 * `lfs.url`, and a credential helper for the gateway's origin that answers git-lfs's `get` with the token (any user
 * name does). The token then sits in the repository's `.git/config`; a credential store is the alternative.
 * The helper is keyed by origin, not path: git matches a path in `credential.<url>` only with `useHttpPath`.
 */
function gitConfigLines(created: CreatedLfsToken): string[] {
  const origin = new URL(created.lfs_url).origin;
  const helper = `!f() { test "$1" = get && echo username=lfs && echo password=${created.token}; }; f`;
  return [`git config lfs.url ${created.lfs_url}`, `git config credential.${origin}.helper '${helper}'`];
}
