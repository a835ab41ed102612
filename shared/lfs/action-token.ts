import { VerigateError } from "../errors/index.ts";
import { VERSION_ID } from "../objects/version.ts";
import { openClaims, sealClaims } from "../presign/mac-token.ts";
import { isOid, isRepoName } from "./repo.ts";

/**
 * The token in a Git LFS action href (`/lfs/<repo>/{download,upload,verify}/<token>`, PROTOCOL section 8): claims
 * sealed with PRESIGN_SECRET under their own purpose (`shared/presign/mac-token.ts`), so the href is its own authority
 * and needs no Authorization header. What the caller must still check on every use: `exp`, that the path's
 * repository is `repo`, that LFS token `tid` is still live, and for uploads that `nonce` was not spent.
 */
export type ActionOp = "download" | "upload" | "verify";

export interface ActionClaims {
  op: ActionOp;
  repo: string;
  oid: string;
  size: number;
  /** The LFS token the batch request was made with: revoking it stops its actions. */
  tid: string;
  /** Expiry, epoch seconds. */
  exp: number;
  /** download: the version served; verify of a storage upload: the staged version whose blob is hashed. */
  version?: string;
  /** upload: the id spent in the replay store on first use, so the URL takes one body. */
  nonce?: string;
}

/** Domain separation from gateway links, which MAC with the same secret. */
const ACTION_PURPOSE = "verigate lfs action v1";
const OPS: readonly string[] = ["download", "upload", "verify"] satisfies ActionOp[];

export function issueActionToken(claims: ActionClaims, secret: string): Promise<string> {
  return sealClaims(claims, secret, ACTION_PURPOSE);
}

/** The claims of a token whose MAC verifies and whose op is `op`; `not_found` for anything else, as for links. */
export async function readActionToken(token: string, secret: string, op: ActionOp): Promise<ActionClaims> {
  const invalid = () => new VerigateError("not_found", "LFS action token fails verification");
  const claims = await openClaims(token, secret, ACTION_PURPOSE);
  if (!claims || claims.op !== op || !OPS.includes(op)) throw invalid();
  const { repo, oid, size, tid, exp, version, nonce } = claims;
  if (typeof repo !== "string" || !isRepoName(repo) || !isOid(oid) || typeof tid !== "string") throw invalid();
  if (!Number.isSafeInteger(size) || (size as number) < 0 || !Number.isSafeInteger(exp)) throw invalid();
  if (version !== undefined && (typeof version !== "string" || !VERSION_ID.test(version))) throw invalid();
  if (nonce !== undefined && typeof nonce !== "string") throw invalid();
  return {
    op,
    repo,
    oid,
    size: size as number,
    tid,
    exp: exp as number,
    ...(version === undefined ? {} : { version }),
    ...(nonce === undefined ? {} : { nonce }),
  };
}
