// A signed GET /v1/whoami: the smallest complete Verigate client (RFC 9421 signature, fresh nonce).
import { readFile } from "node:fs/promises";
import { signRequest } from "../shared/signature/index.ts";

const endpoint = process.env.VERIGATE_ENDPOINT ?? "http://127.0.0.1:8787";
const jwk = JSON.parse(await readFile(process.env.VERIGATE_KEY ?? ".verigate/dev-admin.jwk", "utf8"));
const privateKey = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["sign"]);

const url = `${endpoint}/v1/whoami`;
const { headers } = await signRequest({ method: "GET", url, keyid: jwk.kid, key: { alg: "ed25519", privateKey } });
const response = await fetch(url, { headers });
console.log(response.status, await response.text());
