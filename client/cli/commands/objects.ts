import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type { VerigateClient } from "../../sdk/client.ts";
import { VerigateApiError } from "../../sdk/errors.ts";
import type { ObjectIntegrity } from "../../sdk/integrity.ts";
import { type Command, integerOption, printFields, stringOption } from "../command.ts";
import { digestFile } from "../file-hash.ts";
import { downloadResumable } from "../partial-download.ts";
import { fileBody } from "../upload.ts";

export const put: Command = {
  usage: "<file> [key] [--content-type <type>] [--if-none-match] [--if-match <etag>]",
  summary: "upload a file (key: the file name by default); --if-none-match never replaces, --if-match replaces only that version",
  args: [1, 2],
  options: { "content-type": { type: "string" }, "if-none-match": { type: "boolean" }, "if-match": { type: "string" } },
  async run(invocation) {
    const [file = "", key = basename(file)] = invocation.args;
    const client = await invocation.client();
    const { size: statSize } = await stat(file);
    await refuseAboveLimit(client, file, statSize);
    const { sha256, size } = await digestFile(file, statSize);
    const { body, done } = fileBody(file, size);
    const contentType = stringOption(invocation.options, "content-type");
    const ifMatch = stringOption(invocation.options, "if-match");
    let result;
    try {
      result = await client.putObject(key, body, {
        sha256,
        size,
        ...(contentType === undefined ? {} : { contentType }),
        ...(ifMatch === undefined ? {} : { ifMatch }),
        ifNoneMatch: invocation.options["if-none-match"] === true,
      });
    } finally {
      done();
    }
    printFields(invocation, result, [
      ["key", result.key],
      ["size", String(result.size)],
      ["sha256", result.sha256],
      ["version", result.version],
    ]);
  },
};

export const get: Command = {
  usage: "<key> [-o <file>]",
  summary:
    "download an object, verified while it streams; the file (default: the key's last segment) appears only once verified. An interrupted download is kept in <file>.partial and continued by the next run",
  args: [1, 1],
  options: { output: { type: "string", short: "o" } },
  async run(invocation) {
    const [key = ""] = invocation.args;
    const target = stringOption(invocation.options, "output") ?? basename(key);
    const { integrity, resumedFrom } = await downloadResumable(await invocation.client(), key, target, invocation.warn);
    printFields(invocation, { key, file: target, size: integrity.size, sha256: integrity.sha256, resumed_from: resumedFrom }, [
      ["file", target],
      ["size", String(integrity.size)],
      ["sha256", `${integrity.sha256} (verified)`],
      ...(resumedFrom === 0 ? [] : ([["resumed", `from byte ${resumedFrom}`]] as [string, string][])),
    ]);
  },
};

export const head: Command = {
  usage: "<key>",
  summary: "print an object's size, sha256, type and date without downloading it",
  args: [1, 1],
  async run(invocation) {
    const [key = ""] = invocation.args;
    const info = await (await invocation.client()).headObject(key);
    printFields(invocation, { key, ...info }, describeObject(info));
  },
};

export const ls: Command = {
  usage: "[prefix] [--limit <n>]",
  summary: "list the objects your key may list, under a prefix (all of them unless --limit)",
  args: [0, 1],
  options: { limit: { type: "string" } },
  async run(invocation) {
    const client = await invocation.client();
    const [prefix] = invocation.args;
    const limit = integerOption(invocation.options, "limit");
    const objects = [];
    for await (const object of client.listAllObjects(prefix)) {
      objects.push(object);
      if (limit !== undefined && objects.length >= limit) break;
    }
    if (invocation.json) return invocation.out(JSON.stringify(objects, null, 2));
    for (const object of objects) invocation.out(`${String(object.size).padStart(12)}  ${object.uploaded_at}  ${object.key}`);
  },
};

export const rm: Command = {
  usage: "<key>",
  summary: "delete an object",
  args: [1, 1],
  async run(invocation) {
    const [key = ""] = invocation.args;
    await (await invocation.client()).deleteObject(key);
    printFields(invocation, { key, deleted: true }, [["deleted", key]]);
  },
};

/**
 * Asks the gateway's limit (`/healthz` `max_object_bytes`) before hashing or sending: neither wrangler dev nor
 * the Node server holds a body back for `Expect: 100-continue` (both answer 100 at once, measured), so a file
 * above the limit was sent whole before its 413. A gateway that does not state its limit is left to refuse.
 */
async function refuseAboveLimit(client: VerigateClient, file: string, size: number): Promise<void> {
  let limit: number | undefined;
  try {
    limit = (await client.health()).max_object_bytes;
  } catch (error) {
    if (!(error instanceof VerigateApiError)) throw error;
  }
  if (limit !== undefined && size > limit) {
    throw new VerigateApiError(413, "too_large", null, `${file} is ${size} bytes, above the gateway's limit of ${limit} (MAX_OBJECT_BYTES); nothing was sent`);
  }
}

function describeObject(info: ObjectIntegrity): [string, string][] {
  return [
    ["size", String(info.size)],
    ["sha256", info.sha256],
    ["etag", info.etag],
    ["content-type", info.contentType ?? ""],
    ["last-modified", info.lastModified ?? ""],
  ];
}
