import { VerigateUsageError } from "../../sdk/errors.ts";
import { publicKeyOf } from "../../sdk/keys.ts";
import type { Action, CreateKeyInput, PublicKeyRecord, Scope } from "../../sdk/types.ts";
import { type Command, type Invocation, printFields, stringOption, stringsOption } from "../command.ts";
import { writeKeyFile } from "../key-file.ts";
import { readJsonFile } from "../session.ts";

export const keysAdd: Command = {
  usage: "[public-key] [--jwk <file>] [--keyid <id>] [--scope <prefix>=<action,...>]... [--admin] [--expires-at <rfc3339>] [--alg hmac-sha256 [-o <file>]]",
  summary: "register a key (admin): an ed25519 public key, or the public half of a JWK file; --alg hmac-sha256 has the gateway make a secret",
  args: [0, 1],
  options: {
    jwk: { type: "string" },
    keyid: { type: "string" },
    scope: { type: "string", multiple: true },
    admin: { type: "boolean" },
    "expires-at": { type: "string" },
    alg: { type: "string" },
    output: { type: "string", short: "o" },
  },
  async run(invocation) {
    const input = await createInput(invocation);
    const record = await (await invocation.client()).keys.create(input);
    const secretFile = stringOption(invocation.options, "output");
    if (record.secret !== undefined && secretFile !== undefined) {
      await writeKeyFile(secretFile, { kty: "oct", k: record.secret, kid: record.keyid }, invocation.warn);
    }
    printFields(invocation, record, [
      ...describeKey(record),
      ...(record.secret === undefined ? [] : ([["secret", secretFile ? `written to ${secretFile}` : `${record.secret} (shown once)`]] as [string, string][])),
    ]);
  },
};

export const keysList: Command = {
  usage: "",
  summary: "list every key (admin)",
  args: [0, 0],
  async run(invocation) {
    const records = await (await invocation.client()).keys.list();
    if (invocation.json) return invocation.out(JSON.stringify(records, null, 2));
    for (const record of records) {
      const scopes = record.scopes.map((scope) => `${JSON.stringify(scope.prefix)}=${scope.actions.join(",")}`).join(" ");
      invocation.out(`${record.keyid}  ${record.alg}  ${record.status}${record.admin ? "  admin" : ""}  ${scopes}`);
    }
  },
};

export const keysGet: Command = {
  usage: "<keyid>",
  summary: "show one key (admin)",
  args: [1, 1],
  async run(invocation) {
    const record = await (await invocation.client()).keys.get(invocation.args[0] ?? "");
    printFields(invocation, record, describeKey(record));
  },
};

export const keysRevoke: Command = {
  usage: "<keyid>",
  summary: "revoke a key (admin); its signatures and the links it issued stop working",
  args: [1, 1],
  async run(invocation) {
    const keyid = invocation.args[0] ?? "";
    await (await invocation.client()).keys.revoke(keyid);
    printFields(invocation, { keyid, status: "revoked" }, [["revoked", keyid]]);
  },
};

async function createInput(invocation: Invocation): Promise<CreateKeyInput> {
  const { options } = invocation;
  const alg = stringOption(options, "alg") ?? "ed25519";
  if (alg !== "ed25519" && alg !== "hmac-sha256") throw new VerigateUsageError("--alg must be ed25519 or hmac-sha256");
  const jwkFile = stringOption(options, "jwk");
  const fromJwk = jwkFile === undefined ? undefined : publicKeyOf(await readJsonFile(jwkFile));
  const publicKey = invocation.args[0] ?? fromJwk?.publicKey;
  if (alg === "ed25519" && publicKey === undefined) throw new VerigateUsageError("an ed25519 key needs its public key or --jwk <file>");
  if (alg === "hmac-sha256" && publicKey !== undefined) throw new VerigateUsageError("an hmac-sha256 key takes no public key");
  const keyid = stringOption(options, "keyid") ?? fromJwk?.keyid;
  const expiresAt = stringOption(options, "expires-at");
  return {
    alg,
    scopes: stringsOption(options, "scope").map(parseScope),
    ...(publicKey === undefined ? {} : { public_key: publicKey }),
    ...(keyid === undefined ? {} : { keyid }),
    ...(options.admin === true ? { admin: true } : {}),
    ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
  };
}

/** `<prefix>=<action,...>`; split at the last `=`, since a prefix may hold one and an action never does. */
function parseScope(text: string): Scope {
  const split = text.lastIndexOf("=");
  if (split === -1) throw new VerigateUsageError(`--scope ${JSON.stringify(text)} is not <prefix>=<action,...>`);
  const actions = text
    .slice(split + 1)
    .split(",")
    .filter((action) => action !== "");
  return { prefix: text.slice(0, split), actions: actions as Action[] };
}

function describeKey(record: PublicKeyRecord): [string, string][] {
  return [
    ["keyid", record.keyid],
    ["alg", record.alg],
    ["status", record.status],
    ["admin", record.admin ? "yes" : "no"],
    ...(record.public_key === undefined ? [] : ([["public_key", record.public_key]] as [string, string][])),
    ...record.scopes.map((scope): [string, string] => ["scope", `${JSON.stringify(scope.prefix)} ${scope.actions.join(",")}`]),
    ...(record.expires_at === undefined ? [] : ([["expires_at", record.expires_at]] as [string, string][])),
  ];
}
