import type { ReplayBackendName } from "../replay/index.ts";
import { type AdminKey, parseAdminKeys } from "./admin-keys.ts";
import { isExampleName } from "./blocklist.ts";
import {
  DEFAULT_CHUNK_SIZE_BYTES,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  DEFAULT_MAX_OBJECT_BYTES,
  DEFAULT_MAX_SIGNATURE_AGE_SECONDS,
  DEFAULT_PRESIGN_MAX_SECONDS,
  DEFAULT_COMPLETE_SLICE_BYTES,
  DEFAULT_MAX_UPLOAD_SESSION_BYTES,
  DEFAULT_UPLOAD_PART_BYTES,
  DEFAULT_UPLOAD_SESSION_SECONDS,
  MAX_CHUNK_SIZE_BYTES,
  MAX_UPLOAD_PART_BYTES,
  MAX_UPLOAD_SESSION_SECONDS,
  MIN_CHUNK_SIZE_BYTES,
  MIN_PRESIGN_SECRET_BYTES,
  MIN_UPLOAD_PART_BYTES,
  MIN_UPLOAD_SESSION_SECONDS,
} from "./constants.ts";
import { type EncryptionSettings, parseEncryption } from "./encryption.ts";
import type { ConfigProblem } from "./problems.ts";

export type Runtime = "workers" | "lambda" | "node";
export type AuthMode = "enforce" | "soft" | "off";
export type Vars = Record<string, string | undefined>;

export interface S3Settings {
  endpoint: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
}

/** The values of the PROTOCOL section 7 variables, defaults applied. */
export interface Settings {
  runtime: Runtime;
  authMode: AuthMode;
  replayStore: ReplayBackendName;
  clockSkewSeconds: number;
  maxSignatureAgeSeconds: number;
  maxObjectBytes: number;
  chunkSizeBytes: number;
  /** Upload sessions (PROTOCOL "Upload sessions"): the largest declared size, the part size, the lifetime, the bytes one complete call verifies. */
  maxUploadSessionBytes: number;
  uploadPartBytes: number;
  uploadSessionSeconds: number;
  completeSliceBytes: number;
  /** The in-flight budget of one isolate or process, in chunk-buffer bytes (functions/middleware/in-flight.ts). */
  maxInFlightBytes: number;
  presignSecret: string | undefined;
  presignMaxSeconds: number;
  presignStorage: boolean;
  s3: S3Settings | undefined;
  dynamodbTable: string | undefined;
  dynamodbEndpoint: string | undefined;
  adminKeys: readonly AdminKey[];
  publicOrigin: string | undefined;
  /** ENCRYPTION_KEYS and UNSIGNED_MANIFESTS (docs/ENCRYPTION.md). */
  encryption: EncryptionSettings;
}

/** The variables whose value is checked against a range or a list; a bad one is `invalid_<name>`. */
type CheckedVariable =
  | "AUTH_MODE"
  | "REPLAY_STORE"
  | "PRESIGN_STORAGE"
  | "CLOCK_SKEW_SECONDS"
  | "MAX_SIGNATURE_AGE_SECONDS"
  | "MAX_OBJECT_BYTES"
  | "CHUNK_SIZE_BYTES"
  | "MAX_IN_FLIGHT_BYTES"
  | "PRESIGN_MAX_SECONDS"
  | "MAX_UPLOAD_SESSION_BYTES"
  | "UPLOAD_PART_BYTES"
  | "UPLOAD_SESSION_SECONDS"
  | "COMPLETE_SLICE_BYTES";

function invalid<N extends CheckedVariable>(name: N): `invalid_${Lowercase<N>}` {
  return `invalid_${name.toLowerCase()}` as `invalid_${Lowercase<N>}`;
}

const REPLAY_BACKENDS: readonly ReplayBackendName[] = ["durable-object", "kv", "memory", "dynamodb"];
const DEFAULT_REPLAY: Record<Runtime, ReplayBackendName> = {
  workers: "durable-object",
  lambda: "dynamodb",
  node: "dynamodb",
};

/** Reads every variable, adding a problem code for each value it cannot use (the default is used in its place). */
export function parseVariables(vars: Vars, runtime: Runtime, problems: ConfigProblem[]): Settings {
  const text = (name: string): string | undefined => {
    const value = vars[name]?.trim();
    return value ? value : undefined;
  };
  const integer = (name: CheckedVariable, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(invalid(name));
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: CheckedVariable, allowed: readonly T[], fallback: T): T => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(invalid(name));
    return fallback;
  };

  const authMode = oneOf<AuthMode>("AUTH_MODE", ["enforce", "soft", "off"], "enforce");
  const replayStore = oneOf("REPLAY_STORE", REPLAY_BACKENDS, DEFAULT_REPLAY[runtime]);
  const chunkSizeBytes = integer("CHUNK_SIZE_BYTES", DEFAULT_CHUNK_SIZE_BYTES, MIN_CHUNK_SIZE_BYTES, MAX_CHUNK_SIZE_BYTES);
  if ((chunkSizeBytes & (chunkSizeBytes - 1)) !== 0) problems.push("invalid_chunk_size_bytes");
  // Parts are whole chunks, so a part boundary is always a chunk boundary and a part's chunks hash as the object's do.
  const uploadPartBytes = integer("UPLOAD_PART_BYTES", DEFAULT_UPLOAD_PART_BYTES, MIN_UPLOAD_PART_BYTES, MAX_UPLOAD_PART_BYTES);
  if (uploadPartBytes % chunkSizeBytes !== 0) problems.push("invalid_upload_part_bytes");

  const presignSecret = text("PRESIGN_SECRET");
  if (presignSecret !== undefined && new TextEncoder().encode(presignSecret).length < MIN_PRESIGN_SECRET_BYTES) {
    problems.push("presign_secret_too_short");
  }

  const s3 = parseS3(text, problems, runtime);
  const presignStorage = oneOf("PRESIGN_STORAGE", ["on", "off"], "off") === "on";
  const dynamodbTable = text("DYNAMODB_TABLE");
  if (dynamodbTable !== undefined && isExampleName(dynamodbTable)) problems.push("dynamodb_table_example_name");

  const publicOrigin = text("PUBLIC_ORIGIN");
  if (publicOrigin !== undefined && !isOrigin(publicOrigin)) problems.push("invalid_public_origin");

  return {
    runtime,
    authMode,
    replayStore,
    clockSkewSeconds: integer("CLOCK_SKEW_SECONDS", DEFAULT_CLOCK_SKEW_SECONDS, 0, 3600),
    maxSignatureAgeSeconds: integer("MAX_SIGNATURE_AGE_SECONDS", DEFAULT_MAX_SIGNATURE_AGE_SECONDS, 1, 86_400),
    maxObjectBytes: integer("MAX_OBJECT_BYTES", DEFAULT_MAX_OBJECT_BYTES, 0, Number.MAX_SAFE_INTEGER),
    chunkSizeBytes,
    maxUploadSessionBytes: integer("MAX_UPLOAD_SESSION_BYTES", DEFAULT_MAX_UPLOAD_SESSION_BYTES, 1, DEFAULT_MAX_UPLOAD_SESSION_BYTES),
    uploadPartBytes,
    uploadSessionSeconds: integer("UPLOAD_SESSION_SECONDS", DEFAULT_UPLOAD_SESSION_SECONDS, MIN_UPLOAD_SESSION_SECONDS, MAX_UPLOAD_SESSION_SECONDS),
    completeSliceBytes: integer("COMPLETE_SLICE_BYTES", DEFAULT_COMPLETE_SLICE_BYTES, chunkSizeBytes, Number.MAX_SAFE_INTEGER),
    maxInFlightBytes: integer("MAX_IN_FLIGHT_BYTES", DEFAULT_MAX_IN_FLIGHT_BYTES, 1, Number.MAX_SAFE_INTEGER),
    presignSecret: problems.includes("presign_secret_too_short") ? undefined : presignSecret,
    presignMaxSeconds: integer("PRESIGN_MAX_SECONDS", DEFAULT_PRESIGN_MAX_SECONDS, 1, 7 * 86_400),
    presignStorage,
    s3,
    dynamodbTable,
    dynamodbEndpoint: text("DYNAMODB_ENDPOINT"),
    adminKeys: parseAdminKeys(text("ADMIN_KEYS"), problems),
    publicOrigin: publicOrigin?.replace(/\/+$/, ""),
    encryption: parseEncryption(text("ENCRYPTION_KEYS"), text("UNSIGNED_MANIFESTS"), problems),
  };
}

function parseS3(text: (name: string) => string | undefined, problems: ConfigProblem[], runtime: Runtime): S3Settings | undefined {
  const bucket = text("S3_BUCKET");
  if (bucket === undefined) return undefined;
  if (isExampleName(bucket)) problems.push("s3_bucket_example_name");
  // R2 takes "auto"; on AWS the bucket is in the function's own region, which the Lambda runtime sets.
  const defaultRegion = runtime === "workers" ? undefined : text("AWS_REGION");
  return {
    endpoint: text("S3_ENDPOINT"),
    region: text("S3_REGION") ?? defaultRegion ?? "auto",
    bucket,
    accessKeyId: text("S3_ACCESS_KEY_ID"),
    secretAccessKey: text("S3_SECRET_ACCESS_KEY"),
  };
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && (url.pathname === "/" || url.pathname === "");
  } catch {
    return false;
  }
}
