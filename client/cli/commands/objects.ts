import { stat } from "node:fs/promises";
import { MIB } from "../../../shared/bytes.ts";
import { basename } from "node:path";
import type { VerigateClient } from "../../sdk/client.ts";
import { VerigateApiError } from "../../sdk/errors.ts";
import type { ObjectIntegrity } from "../../sdk/integrity.ts";
import type { PutObjectOptions } from "../../sdk/client.ts";
import { VerigateUsageError } from "../../sdk/errors.ts";
import type { PutResult } from "../../sdk/types.ts";
import { type Command, integerOption, printFields, sizeOption, stringOption } from "../command.ts";
import { digestFile } from "../file-hash.ts";
import { downloadDirect } from "../direct-download.ts";
import { downloadResumable } from "../partial-download.ts";
import { putInParts } from "../session-put.ts";
import { fileBody } from "../upload.ts";

/** Above this a file goes through an upload session: parts resume after an interruption, and go up in parallel. */
const DEFAULT_SESSION_THRESHOLD_BYTES = 64 * MIB;
/** Parts in flight at once, and in memory: 4 x 16 MiB parts by default. */
const DEFAULT_PARALLEL_PARTS = 4;
/** Storage Range requests in flight at once, and in memory, for `get --direct`: 4 x 8 MiB by default. */
const DEFAULT_PARALLEL_RANGES = 4;

export const put: Command = {
  usage: "<file> [key] [--content-type <type>] [--if-none-match] [--if-match <etag>] [--session-threshold <size>] [--parallel <n>] [--direct]",
  summary:
    "upload a file (key: the file name by default); --if-none-match never replaces, --if-match replaces only that version. Above --session-threshold (default 64MiB) or the gateway's PUT limit the file goes in parts through an upload session (--parallel at once, default 4; --direct straight to storage), and an interrupted upload is resumed by running the same command again",
  args: [1, 2],
  options: {
    "content-type": { type: "string" },
    "if-none-match": { type: "boolean" },
    "if-match": { type: "string" },
    "session-threshold": { type: "string" },
    parallel: { type: "string" },
    direct: { type: "boolean" },
  },
  async run(invocation) {
    const [file = "", key = basename(file)] = invocation.args;
    const threshold = sizeOption(invocation.options, "session-threshold") ?? DEFAULT_SESSION_THRESHOLD_BYTES;
    const parallel = integerOption(invocation.options, "parallel") ?? DEFAULT_PARALLEL_PARTS;
    if (parallel < 1) throw new VerigateUsageError("--parallel must be at least 1");
    const direct = invocation.options.direct === true;
    const client = await invocation.client();
    const { size: statSize, mtimeMs } = await stat(file);
    const contentType = stringOption(invocation.options, "content-type");
    const ifMatch = stringOption(invocation.options, "if-match");
    const preconditions = {
      ...(contentType === undefined ? {} : { contentType }),
      ...(ifMatch === undefined ? {} : { ifMatch }),
      ifNoneMatch: invocation.options["if-none-match"] === true,
    };
    const putLimit = await gatewayPutLimit(client);
    const result =
      direct || statSize > threshold || (putLimit !== undefined && statSize > putLimit)
        ? await putInParts(client, file, key, { size: statSize, mtimeMs }, { parallel, direct, ...preconditions }, invocation.warn)
        : await putWhole(client, file, key, statSize, preconditions);
    printFields(invocation, result, [
      ["key", result.key],
      ["size", String(result.size)],
      ["sha256", result.sha256],
      ["version", result.version],
    ]);
  },
};

/** One PUT: the file hashed once by streaming, then streamed up under a signature covering that digest. */
async function putWhole(
  client: VerigateClient,
  file: string,
  key: string,
  statSize: number,
  options: Omit<PutObjectOptions, "sha256" | "size">,
): Promise<PutResult> {
  const { sha256, size } = await digestFile(file, statSize);
  const { body, done } = fileBody(file, size);
  try {
    return await client.putObject(key, body, { ...options, sha256, size });
  } finally {
    done();
  }
}

export const get: Command = {
  usage: "<key> [-o <file>] [--direct] [--parallel <n>]",
  summary:
    "download an object, verified while it streams; the file (default: the key's last segment) appears only once verified. An interrupted download is kept in <file>.partial and continued by the next run. --direct fetches byte ranges straight from storage (--parallel at once, default 4), each chunk checked against the gateway's digests before it is written; the default on the Lambda build when its storage presign is on",
  args: [1, 1],
  options: { output: { type: "string", short: "o" }, direct: { type: "boolean" }, parallel: { type: "string" } },
  async run(invocation) {
    const [key = ""] = invocation.args;
    const target = stringOption(invocation.options, "output") ?? basename(key);
    const parallel = integerOption(invocation.options, "parallel") ?? DEFAULT_PARALLEL_RANGES;
    if (parallel < 1) throw new VerigateUsageError("--parallel must be at least 1");
    const client = await invocation.client();
    if (invocation.options.direct === true || (await directByDefault(client))) {
      const got = await downloadDirect(client, key, target, { parallel, warn: invocation.warn });
      printFields(
        invocation,
        { key, file: target, size: got.size, sha256: got.sha256, version: got.version, direct: true, resumed_chunks: got.resumedChunks },
        [
          ["file", target],
          ["size", String(got.size)],
          ["sha256", `${got.sha256} (verified, chunk by chunk, straight from storage)`],
          ...(got.resumedChunks === 0 ? [] : ([["resumed", `${got.resumedChunks} of ${got.chunkCount} chunks kept from the last run`]] as [string, string][])),
        ],
      );
      return;
    }
    const { integrity, resumedFrom } = await downloadResumable(client, key, target, invocation.warn);
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
 * The gateway's PUT limit (`/healthz` `max_object_bytes`), asked before hashing or sending: neither wrangler dev nor
 * the Node server holds a body back for `Expect: 100-continue` (both answer 100 at once, measured), so a file above
 * the limit was sent whole before its 413. Such a file now goes through an upload session, whose create is refused
 * (413 naming `MAX_UPLOAD_SESSION_BYTES`) before any part is sent. A gateway that does not state its limit: none.
 */
async function gatewayPutLimit(client: VerigateClient): Promise<number | undefined> {
  try {
    return (await client.health()).max_object_bytes;
  } catch (error) {
    if (!(error instanceof VerigateApiError)) throw error;
    return undefined;
  }
}

/**
 * Direct is the default where the gateway cannot stream a large object itself: a Lambda response streams at most
 * 200 MB, at 2 MBps after its first 6 MB (deploy/LAMBDA.md). It needs storage presign on; a gateway that does not
 * describe itself: streamed.
 */
async function directByDefault(client: VerigateClient): Promise<boolean> {
  try {
    const health = await client.health();
    return health.runtime === "lambda" && health.presign_storage;
  } catch (error) {
    if (!(error instanceof VerigateApiError)) throw error;
    return false;
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
