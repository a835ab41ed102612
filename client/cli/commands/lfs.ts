import type { CreatedLfsToken } from "../../sdk/types.ts";
import { type Command, integerOption, printFields, stringOption } from "../command.ts";

export const lfsTokenCreate: Command = {
  usage: "<repo> [--write] [--expires <seconds>]",
  summary: "mint an LFS token for a repository (read, or --write to push and lock too) and print the git commands that use it",
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
    invocation.out(`\nin the repository:\n${gitSetupLines(created).join("\n")}`);
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
 * `lfs.url`, and the token put in a credential store of the repository's own (any user name does). A store, not a
 * helper answering every `get` with the token: git-lfs rejects a refused credential and a store forgets it, where
 * git-lfs 3.3 (Debian's) resubmits a fixed answer forever once the token expires or is revoked (git-lfs/git-lfs#2833,
 * fixed upstream by #6231). The store is keyed by origin, not path: git matches a path only with `useHttpPath`.
 */
function gitSetupLines(created: CreatedLfsToken): string[] {
  const origin = new URL(created.lfs_url).origin;
  return [
    `git config lfs.url ${created.lfs_url}`,
    `git config credential.${origin}.helper "store --file=$(git rev-parse --absolute-git-dir)/verigate-lfs-credentials"`,
    `printf 'url=${created.lfs_url}\\nusername=lfs\\npassword=${created.token}\\n' | git credential approve`,
  ];
}
