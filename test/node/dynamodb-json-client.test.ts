import { createHash, createHmac } from "node:crypto";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SignatureV4 } from "@smithy/signature-v4";
import type { SourceData } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBJsonClient } from "../../shared/aws/dynamodb-json-client.ts";
import { dynamoDBJsonClientLike } from "../../shared/aws/dynamodb-json-from-sdk.ts";
import { SigV4Signer } from "../../shared/aws/sigv4.ts";
import { createTable } from "../../shared/metadata/dynamodb-table.ts";
import { claimOrFailClosed } from "../../shared/replay/claim-id.ts";
import { DynamoReplayStore } from "../../shared/replay/dynamodb.ts";
import { randomClaimId } from "../contracts/replay-store.ts";
import { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, type LocalServer, startDynalite } from "./support/aws-local.ts";

/**
 * The lean DynamoDB client the replay claim goes through (shared/aws/): its signature against AWS's published vector
 * and the SDK's own signer, and, through a loopback front of dynalite that fails chosen calls, the SDK semantics it
 * must keep: retried throttling and 5xx, a retry after a landed write refused, every other failure thrown (the
 * gateway then fails closed), and credentials taken from the provider on each call so expired ones are refreshed.
 */
const TABLE = "verigate-json-client";
const WINDOW_SECONDS = 300;

/** What the front does with one call: pass it on, answer an error instead, or pass it on and drop dynalite's answer. */
type Fault = "pass" | "throttle" | "unavailable" | "drop-answer";

interface Front {
  endpoint: string;
  /** Faults for the next calls, in order; later calls pass. */
  faults: Fault[];
  seen: IncomingMessage["headers"][];
  close: () => Promise<void>;
}

/** The SDK signer's hash interface over node:crypto, as the SDK's Node runtime builds it: HMAC when given a secret. */
class Sha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
}

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

let dynalite: LocalServer;
let sdk: DynamoDBClient;
let front: Front;

async function startFront(target: string): Promise<Front> {
  const state: Omit<Front, "endpoint" | "close"> = { faults: [], seen: [] };
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    state.seen.push(incoming.headers);
    const fault = state.faults.shift() ?? "pass";
    if (fault === "throttle" || fault === "unavailable") {
      incoming.resume();
      const [status, type] = fault === "throttle" ? [400, "ThrottlingException"] : [503, "ServiceUnavailable"];
      outgoing.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
      outgoing.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: "injected by the test's front" }));
      return;
    }
    const forward = request(`${target}/`, { method: "POST", headers: incoming.headers }, (answer) => {
      if (fault === "drop-answer") {
        // The write landed in dynalite; the client only sees its connection reset.
        answer.resume();
        answer.once("end", () => outgoing.socket?.destroy());
        return;
      }
      outgoing.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(outgoing);
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  });
}

function clientFor(endpoint: string, maxAttempts = 4, credentials = async () => LOCAL_DYNAMODB_CREDENTIALS): DynamoDBJsonClient {
  return new DynamoDBJsonClient({ settings: async () => ({ endpoint: new URL(endpoint), region: LOCAL_AWS_REGION, maxAttempts }), credentials });
}

function windowNow() {
  const now = Math.floor(Date.now() / 1000);
  return { nowSeconds: now, expiresAtSeconds: now + WINDOW_SECONDS };
}

async function claimed(id: string): Promise<boolean> {
  const { Item } = await sdk.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `r#${id}` }, sk: { S: "r" } }, ConsistentRead: true }));
  return Item !== undefined;
}

beforeAll(async () => {
  dynalite = await startDynalite();
  sdk = new DynamoDBClient({ endpoint: dynalite.endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
  await createTable(sdk, TABLE);
  front = await startFront(dynalite.endpoint);
});

afterAll(async () => {
  sdk?.destroy();
  await front?.close();
  await dynalite?.stop();
});

describe("SigV4Signer", () => {
  it("gives the signature of AWS's published get-vanilla test vector", () => {
    const headers = new SigV4Signer("us-east-1", "service").sign(
      { method: "GET", host: "example.amazonaws.com", path: "/", headers: {}, body: "" },
      { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
      Date.parse("2015-08-30T12:36:00Z"),
    );
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });

  it("signs a DynamoDB call with a session token exactly as the SDK's signer does, across a day change", async () => {
    const credentials = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret/example+key", sessionToken: "token+with/slashes==" };
    const sdkSigner = new SignatureV4({ credentials, region: "eu-west-1", service: "dynamodb", sha256: Sha256, applyChecksum: false });
    const signer = new SigV4Signer("eu-west-1", "dynamodb");
    const body = JSON.stringify({ TableName: "t", Item: { pk: { S: "r#é" } } });
    for (const at of ["2026-11-30T23:59:59Z", "2026-12-01T00:00:01Z"]) {
      const nowMs = Date.parse(at);
      const ours = signer.sign(
        {
          method: "POST",
          host: "dynamodb.eu-west-1.amazonaws.com",
          path: "/",
          headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.PutItem" },
          body,
        },
        credentials,
        nowMs,
      );
      const theirs = await sdkSigner.sign(
        {
          method: "POST",
          protocol: "https:",
          hostname: "dynamodb.eu-west-1.amazonaws.com",
          path: "/",
          query: {},
          headers: { host: "dynamodb.eu-west-1.amazonaws.com", "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.PutItem" },
          body,
        },
        { signingDate: new Date(nowMs) },
      );
      expect(ours.authorization).toBe(theirs.headers.authorization);
      expect(ours["x-amz-security-token"]).toBe(credentials.sessionToken);
    }
  });
});

/** A store sending through the front, which answers the next calls with `faults`, and a fresh claim id. */
function storeBehindFaults(faults: Fault[], maxAttempts = 4, table = TABLE): { store: DynamoReplayStore; id: string } {
  front.seen.length = 0;
  front.faults = faults;
  return { store: new DynamoReplayStore(clientFor(front.endpoint, maxAttempts), table), id: randomClaimId() };
}

describe("DynamoReplayStore through the lean client", () => {
  it("retries a throttled call and claims", async () => {
    const { store, id } = storeBehindFaults(["throttle"], 2);
    expect(await store.claim(id, windowNow())).toBe(true);
    expect(front.seen).toHaveLength(2);
    expect(await claimed(id)).toBe(true);
  });

  it("retries a 5xx answer and claims", async () => {
    const { store, id } = storeBehindFaults(["unavailable", "unavailable"]);
    expect(await store.claim(id, windowNow())).toBe(true);
    expect(front.seen).toHaveLength(3);
    expect(await claimed(id)).toBe(true);
  });

  it("refuses the claim when a retry follows an attempt that landed (a lost answer is never an accepted replay)", async () => {
    const { store, id } = storeBehindFaults(["drop-answer"]);
    expect(await store.claim(id, windowNow())).toBe(false);
    expect(front.seen).toHaveLength(2);
    expect(await claimed(id)).toBe(true);
  });

  it("throws after the SDK's attempt count when every attempt fails, and the gateway answers replay_store_unavailable", async () => {
    const { store, id } = storeBehindFaults(["unavailable", "unavailable", "unavailable", "unavailable"], 3);
    await expect(claimOrFailClosed(store, id, windowNow())).rejects.toMatchObject({ code: "replay_store_unavailable" });
    expect(front.seen).toHaveLength(3);
    front.faults = [];
    expect(await claimed(id)).toBe(false);
  });

  it("throws at once, without retrying, an answer the SDK would not retry (a missing table)", async () => {
    const { store, id } = storeBehindFaults([], 4, "verigate-missing-table");
    await expect(store.claim(id, windowNow())).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(front.seen).toHaveLength(1);
  });

  it("throws when nothing listens (the gateway fails closed rather than passing)", async () => {
    const closed = await startFront(dynalite.endpoint);
    await closed.close();
    const store = new DynamoReplayStore(clientFor(closed.endpoint, 2), TABLE);
    await expect(claimOrFailClosed(store, randomClaimId(), windowNow())).rejects.toMatchObject({ code: "replay_store_unavailable" });
  });
});

describe("dynamoDBJsonClientLike", () => {
  it("signs with the SDK client's credentials provider: kept while valid, fetched again once they expire", async () => {
    let issued = 0;
    let lifetimeMs = 3_600_000;
    const provider = async () => {
      issued++;
      return { accessKeyId: `ASIA${issued}`, secretAccessKey: "s", sessionToken: `token-${issued}`, expiration: new Date(Date.now() + lifetimeMs) };
    };
    const configured = new DynamoDBClient({ endpoint: front.endpoint, region: LOCAL_AWS_REGION, credentials: provider });
    const store = new DynamoReplayStore(dynamoDBJsonClientLike(configured), TABLE);
    const credentialOf = (headers: IncomingMessage["headers"]) => /Credential=([^/]+)\//.exec(String(headers.authorization))?.[1];
    front.seen.length = 0;
    expect(await store.claim(randomClaimId(), windowNow())).toBe(true);
    expect(await store.claim(randomClaimId(), windowNow())).toBe(true);
    expect(front.seen.map(credentialOf)).toEqual(["ASIA1", "ASIA1"]);
    expect(front.seen[0]?.["x-amz-security-token"]).toBe("token-1");
    // Within the SDK's refresh window (five minutes before expiry) credentials count as expired.
    lifetimeMs = 60_000;
    const store2 = new DynamoReplayStore(
      dynamoDBJsonClientLike(new DynamoDBClient({ endpoint: front.endpoint, region: LOCAL_AWS_REGION, credentials: provider })),
      TABLE,
    );
    front.seen.length = 0;
    expect(await store2.claim(randomClaimId(), windowNow())).toBe(true);
    expect(await store2.claim(randomClaimId(), windowNow())).toBe(true);
    const [first, second] = front.seen.map(credentialOf);
    expect(first).not.toBe("ASIA1");
    expect(second).not.toBe(first);
    expect(front.seen[1]?.["x-amz-security-token"]).toBe(`token-${second?.slice("ASIA".length)}`);
    configured.destroy();
  });

  it("sends to the SDK client's endpoint and region", async () => {
    const configured = new DynamoDBClient({ endpoint: front.endpoint, region: "eu-central-1", credentials: LOCAL_DYNAMODB_CREDENTIALS });
    front.seen.length = 0;
    expect(await new DynamoReplayStore(dynamoDBJsonClientLike(configured), TABLE).claim(randomClaimId(), windowNow())).toBe(true);
    expect(front.seen[0]?.host).toBe(new URL(front.endpoint).host);
    expect(String(front.seen[0]?.authorization)).toContain("/eu-central-1/dynamodb/aws4_request");
    configured.destroy();
  });
});
