import { createHash, createHmac } from "node:crypto";

/** The subset of the SDK's `AwsCredentialIdentity` a request is signed with. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Set for temporary credentials (a Lambda execution role, an assumed role); sent as `x-amz-security-token`. */
  sessionToken?: string | undefined;
}

/** What one request's signature covers: always its host, date, payload hash and the headers given here. */
export interface SigV4Request {
  method: string;
  host: string;
  /** The canonical URI, already encoded: "/" for DynamoDB's JSON protocol. */
  path: string;
  /** Signed headers besides host, x-amz-date and x-amz-security-token; lower-case names, trimmed values. */
  headers: Readonly<Record<string, string>>;
  body: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";

/**
 * AWS Signature Version 4 for one region and service, header-signed, with no query string (all the lean DynamoDB
 * client sends). The derived signing key depends only on the secret and the UTC day, so it is kept per (secret, day)
 * instead of recomputed by four HMACs per request as the SDK's signer does once its cache misses. Checked against
 * AWS's published test vector and against the SDK's own signer (test/node/dynamodb-json-client.test.ts).
 */
export class SigV4Signer {
  readonly #region: string;
  readonly #service: string;
  #cachedKey: { secret: string; day: string; key: Buffer } | undefined;

  constructor(region: string, service: string) {
    this.#region = region;
    this.#service = service;
  }

  /** The request's headers with `authorization`, `x-amz-date` and (for temporary credentials) `x-amz-security-token` added. */
  sign(request: SigV4Request, credentials: AwsCredentials, nowMs: number): Record<string, string> {
    const amzDate = new Date(nowMs)
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d{3}/, "");
    const day = amzDate.slice(0, 8);
    const headers: Record<string, string> = { ...request.headers, host: request.host, "x-amz-date": amzDate };
    if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(";");
    const canonicalHeaders = names.map((name) => `${name}:${headers[name]}\n`).join("");
    const payloadHash = sha256Hex(request.body);
    const canonicalRequest = `${request.method}\n${request.path}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${day}/${this.#region}/${this.#service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = createHmac("sha256", this.#signingKey(credentials.secretAccessKey, day)).update(stringToSign).digest("hex");
    headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  #signingKey(secret: string, day: string): Buffer {
    const cached = this.#cachedKey;
    if (cached && cached.secret === secret && cached.day === day) return cached.key;
    let key = hmac(`AWS4${secret}`, day);
    for (const part of [this.#region, this.#service, "aws4_request"]) key = hmac(key, part);
    this.#cachedKey = { secret, day, key };
    return key;
  }
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
