import { stat } from "node:fs/promises";
import { fromHex } from "../../../shared/crypto/encoding.ts";
import { VerigateUsageError } from "../../sdk/errors.ts";
import { type Command, type Invocation, stringOption } from "../command.ts";
import { openClient } from "../session.ts";
import { digestFile } from "../file-hash.ts";

const ABSOLUTE_URL = /^https?:\/\//i;
/** What curl sends for `--data-binary` unless told otherwise, and what an object must not be stored as. */
const DEFAULT_BODY_TYPE = "application/octet-stream";

export const sign: Command = {
  usage: "<method> <url> [--body-file <file>] [--content-type <type>] [--curl]",
  summary:
    "print the headers that sign one request, one `Name: value` per line (for `curl -H @file`), or with --curl a ready curl command; url: absolute, or a path on --endpoint",
  args: [2, 2],
  options: { "body-file": { type: "string" }, "content-type": { type: "string" }, curl: { type: "boolean" } },
  async run(invocation) {
    const [methodArg = "", target = ""] = invocation.args;
    const method = methodArg.toUpperCase();
    const { client, url } = await signerFor(invocation, target);
    const bodyFile = stringOption(invocation.options, "body-file");
    const digest = bodyFile === undefined ? undefined : await digestFile(bodyFile, (await stat(bodyFile)).size);
    const headers = await client.sign(method, url, digest === undefined ? undefined : fromHex(digest.sha256));
    const curl = invocation.options.curl === true;
    const contentType = stringOption(invocation.options, "content-type") ?? (curl && bodyFile !== undefined ? DEFAULT_BODY_TYPE : undefined);
    if (contentType !== undefined) headers["Content-Type"] = contentType;

    if (invocation.json) return invocation.out(JSON.stringify({ method, url, headers }, null, 2));
    if (curl) return invocation.out(curlCommand(method, url, headers, bodyFile));
    // The signature covers the URL as signed; a client that sends another spelling of it is refused.
    if (ABSOLUTE_URL.test(target) && url !== target) invocation.warn(`signed ${method} ${url}; send exactly that URL`);
    for (const [name, value] of Object.entries(headers)) invocation.out(`${name}: ${value}`);
  },
};

/** An absolute URL signs for its own origin; a path is resolved against --endpoint / VERIGATE_ENDPOINT. */
async function signerFor(invocation: Invocation, target: string) {
  if (ABSOLUTE_URL.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new VerigateUsageError(`not a URL: ${target}`);
    }
    return { client: await openClient({ ...invocation.options, endpoint: url.origin }, process.env, invocation.warn), url: url.href };
  }
  if (!target.startsWith("/")) throw new VerigateUsageError(`the url must be absolute (http://...) or a path starting with /: ${target}`);
  const client = await invocation.client();
  return { client, url: new URL(`${client.endpoint}${target}`).href };
}

/** One POSIX shell command line; every argument single-quoted, so nothing in a header or path is expanded. */
function curlCommand(method: string, url: string, headers: Record<string, string>, bodyFile: string | undefined): string {
  const methodArgs = method === "GET" ? [] : method === "HEAD" ? ["--head"] : ["-X", method];
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const bodyArgs = bodyFile === undefined ? [] : ["--data-binary", `@${bodyFile}`];
  return ["curl", "-sS", ...methodArgs, ...headerArgs, ...bodyArgs, url].map(shellQuote).join(" ");
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
