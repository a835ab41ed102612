/**
 * The named mutants of `npm run mutate`: each breaks one security invariant of the gateway in one place, and the
 * named test files must notice. `original` must occur exactly once in `file`, so a mutant whose code moved or
 * changed is reported as drifted instead of silently testing nothing.
 */
export interface Mutant {
  id: string;
  /** What the gateway would no longer guarantee. */
  invariant: string;
  /** Repository-relative path of the source file. */
  file: string;
  original: string;
  replacement: string;
  /** Test files (repository-relative) that must fail with the mutant applied. */
  tests: string[];
}

const AUTH_TESTS = "test/workerd/auth.test.ts";
const REJECTIONS = "test/workerd/signature-rejections.test.ts";
const REPLAY_GATEWAY = "test/workerd/replay-gateway.test.ts";
const REPLAY_STORES = "test/workerd/replay-store.test.ts";
const SOFT_MODE = "test/workerd/auth-soft-mode.test.ts";
const MATRIX = "test/workerd/authorization-matrix.test.ts";
const KEYS = "test/workerd/keys.test.ts";
const KEY_CACHE = "test/workerd/key-lookup-cache.test.ts";
const PRESIGN = "test/workerd/presign.test.ts";
const TOKENS = "test/workerd/presign-token.test.ts";
const OBJECT_ROUTES = "test/workerd/objects-routes.test.ts";
const OBJECT_CORE = "test/workerd/objects-core.test.ts";
const OBJECT_KEYS = "test/workerd/objects-key.test.ts";
const DIGEST_TREE = "test/workerd/objects-digest-tree.test.ts";
const OBJECT_GC = "test/workerd/objects-gc.test.ts";
/** Over real HTTP on both builds: the bundled Worker in workerd and the AWS app on Node (s3rver, dynalite). */
const AUTH_HTTP = "test/node/auth-http.test.ts";
const OBJECTS_HTTP = "test/node/objects-http.test.ts";
const UPLOADS_HTTP = "test/node/objects-upload.test.ts";
const AWS_BACKENDS = "test/node/aws-backends.test.ts";
/** Issue #10's regression tests. */
const UNAUTHENTICATED = "test/workerd/unauthenticated-modes.test.ts";
const ROUTING = "test/workerd/routing.test.ts";
const LINKS_AFTER_DELETE = "test/workerd/presign-after-delete.test.ts";
/** Issue 13: memory under load. */
const IN_FLIGHT = "test/workerd/in-flight-budget.test.ts";
/** Issue 12: the upload session stores' contract on memory and the Durable Object, and on dynalite. */
const UPLOAD_SESSION_STORES = "test/workerd/upload-sessions.test.ts";
const UPLOAD_SESSION_DYNAMODB = "test/node/upload-sessions-dynamodb.test.ts";
const SESSIONS_CORE = "test/workerd/uploads-core.test.ts";
const SESSIONS_ROUTES = "test/workerd/uploads-routes.test.ts";
/** Issue 18: direct download plans. */
const PLANS = "test/workerd/plans.test.ts";
/** Issue 15: encryption at rest, its modules on workerd's WebCrypto (the same cases run on Node). */
const ENCRYPTION = "test/workerd/encryption.test.ts";
/** Issue 14: LFS tokens, what Basic auth lets in (workerd) and who may mint, list and revoke (every build over HTTP). */
const LFS_AUTH = "test/workerd/lfs-auth.test.ts";
/** Issue 15 wiring: signed manifests and rotation, over HTTP on every build and in workerd. */
const ENC_MANIFESTS_HTTP = "test/node/encryption-manifests-http.test.ts";
const ENC_REWRAP = "test/workerd/encryption-rewrap.test.ts";
const LFS_TOKENS_HTTP = "test/node/lfs-tokens-http.test.ts";
/** Issue 14: the LFS lock stores' contract on memory and the Durable Object, and on dynalite; the lock routes on every build. */
const LFS_LOCK_STORES = "test/workerd/lfs-locks-store.test.ts";
const LFS_LOCK_DYNAMODB = "test/node/lfs-locks-dynamodb.test.ts";
const LFS_LOCKS_HTTP = "test/node/lfs-locks-http.test.ts";
/** Issue 14: Git LFS batch API and transfers. */
const LFS_CORE = "test/workerd/lfs-core.test.ts";
const LFS_HTTP = "test/node/lfs-batch-http.test.ts";
const LFS_STORAGE = "test/node/lfs-storage-upload.test.ts";
/** Issue 14: the real git-lfs client against the Workers and Lambda builds, and the CLI lines that set it up. */
const LFS_GIT = "test/node/lfs-git.test.ts";
const CLI = "test/node/cli.test.ts";

export const MUTANTS: readonly Mutant[] = [
  // Issue #10's findings: each fix broken back.
  {
    id: "soft-mode-writes",
    invariant: "an AUTH_MODE=soft pass may only read and list (finding 1)",
    file: "functions/middleware/auth.ts",
    original: 'actions: ["read", "list"] as Action[]',
    replacement: "actions: [...ACTIONS]",
    tests: [UNAUTHENTICATED],
  },
  {
    id: "loopback-peer-ignored",
    invariant: "loopback-only modes need a loopback peer, not only a loopback Host (finding 2)",
    file: "functions/middleware/guard.ts",
    original: "if (!isLoopbackAddress(peer) || !isLoopbackHost(host)) {",
    replacement: "if (!isLoopbackHost(host)) {",
    tests: [UNAUTHENTICATED],
  },
  {
    id: "link-claim-in-signature-namespace",
    invariant: "single-use link claims cannot be spent by a signature claim (finding 6)",
    file: "shared/replay/claim-id.ts",
    original: "return sha256Hex(`verigate link\\u0000${nonce}`);",
    replacement: 'return replayClaimId("verigate-link", nonce);',
    tests: [ROUTING],
  },
  {
    id: "reserved-keyids-allowed",
    invariant: "keyids the gateway uses itself cannot be registered (finding 6)",
    file: "shared/keys/validate.ts",
    original: "return RESERVED_KEYID.test(keyid);",
    replacement: "return false;",
    tests: [ROUTING],
  },
  {
    id: "decimal-time-accepted",
    invariant: "created and expires must be Integers (finding 7)",
    file: "shared/signature/parse.ts",
    original: 'if (DECIMAL_TIME_PARAM.test(signatureInput.replace(QUOTED_STRING, \'""\'))) throw malformed("created and expires must be Integers");',
    replacement: "",
    tests: [REJECTIONS, AUTH_TESTS],
  },
  {
    id: "non-ascii-base-accepted",
    invariant: "a signature base outside ASCII is refused (finding 7)",
    file: "shared/signature/base.ts",
    original: "if (NON_ASCII.test(base)) throw",
    replacement: "if (false) throw",
    tests: [AUTH_TESTS],
  },
  {
    id: "link-outlives-delete",
    invariant: "a DELETE stops every link to the key's earlier versions at once (finding 3)",
    file: "shared/objects/tombstone.ts",
    original: "if (!tombstone || Date.parse(manifest.created_at) > Date.parse(tombstone.deleted_at)) return manifest;",
    replacement: "return manifest;",
    tests: [LINKS_AFTER_DELETE, PLANS],
  },
  {
    id: "link-token-logged",
    invariant: "log lines name a link by a hash of its token, never the token (finding 12)",
    file: "functions/middleware/problems.ts",
    original: "path: c.var.logPath ?? c.req.path",
    replacement: "path: c.req.path",
    tests: [ROUTING],
  },

  // shared/signature: the RFC 9421 profile, freshness and the signature base.
  {
    id: "profile-body-coverage",
    invariant: "a request with a body must have its content-digest covered by the signature",
    file: "shared/signature/profile.ts",
    original: "const required = hasBody ? [...REQUIRED_COMPONENTS, BODY_COMPONENT] : REQUIRED_COMPONENTS;",
    replacement: "const required = REQUIRED_COMPONENTS;",
    tests: [REJECTIONS, AUTH_TESTS],
  },
  {
    id: "profile-duplicate-component",
    invariant: "a component covered twice is malformed",
    file: "shared/signature/profile.ts",
    original: 'if (new Set(components).size !== components.length) throw malformed("duplicate component");',
    replacement: "",
    tests: [REJECTIONS],
  },
  {
    id: "nonce-min-length",
    invariant: "a nonce carries at least 22 base64 characters (128 bits)",
    file: "shared/signature/profile.ts",
    original: "unpadded.length >= MIN_NONCE_CHARS",
    replacement: "unpadded.length >= MIN_NONCE_CHARS - 1",
    tests: [REJECTIONS],
  },
  {
    id: "nonce-max-length",
    invariant: "a nonce is at most 128 characters",
    file: "shared/signature/profile.ts",
    original: "nonce.length <= MAX_NONCE_CHARS",
    replacement: "nonce.length <= MAX_NONCE_CHARS + 1",
    tests: [REJECTIONS],
  },
  {
    id: "nonce-padding-counted",
    invariant: "padding is not entropy: '=' does not count toward the nonce's 22 characters",
    file: "shared/signature/profile.ts",
    original: 'const unpadded = nonce.replace(/=+$/, "");',
    replacement: "const unpadded = nonce;",
    tests: [REJECTIONS],
  },
  {
    id: "created-not-integer",
    invariant: "created must be an integer",
    file: "shared/signature/profile.ts",
    original: "if (created === undefined || !Number.isSafeInteger(created))",
    replacement: "if (created === undefined)",
    tests: [REJECTIONS],
  },
  {
    id: "expires-not-integer",
    invariant: "expires, when present, must be an integer",
    file: "shared/signature/profile.ts",
    original: "if (expires !== undefined && !Number.isSafeInteger(expires))",
    replacement: "if (expires !== undefined && Number.isNaN(expires))",
    tests: [REJECTIONS],
  },
  {
    id: "tag-unchecked",
    invariant: 'a tag other than "verigate" is malformed',
    file: "shared/signature/profile.ts",
    original: "if (tag !== undefined && tag !== VERIGATE_TAG) throw malformed(`tag ${tag}`);",
    replacement: "",
    tests: [REJECTIONS],
  },
  {
    id: "alg-unknown-accepted",
    invariant: "an alg outside ed25519 and hmac-sha256 is malformed",
    file: "shared/signature/profile.ts",
    original: "if (alg !== undefined && !isAlgorithm(alg)) throw malformed(`alg ${alg}`);",
    replacement: "",
    tests: [REJECTIONS],
  },
  {
    id: "freshness-future-skew-off-by-one",
    invariant: "a signature created more than the clock skew in the future is not yet valid",
    file: "shared/signature/freshness.ts",
    original: "if (created > nowSeconds + clockSkewSeconds) {",
    replacement: "if (created > nowSeconds + clockSkewSeconds + 1) {",
    tests: [REJECTIONS, AUTH_TESTS],
  },
  {
    id: "freshness-max-age-off-by-one",
    invariant: "a signature older than max age plus skew is expired",
    file: "shared/signature/freshness.ts",
    original: "if (nowSeconds > created + maxSignatureAgeSeconds + clockSkewSeconds) {",
    replacement: "if (nowSeconds > created + maxSignatureAgeSeconds + clockSkewSeconds + 1) {",
    tests: [REJECTIONS, AUTH_TESTS],
  },
  {
    id: "freshness-expires-ignored",
    invariant: "a signature is expired once its own expires plus skew has passed",
    file: "shared/signature/freshness.ts",
    original: "if (expires !== undefined && nowSeconds > expires + clockSkewSeconds) {",
    replacement: "if (expires !== undefined && nowSeconds > expires + clockSkewSeconds + maxSignatureAgeSeconds) {",
    tests: [REJECTIONS, AUTH_TESTS],
  },
  {
    id: "freshness-lifetime-cap",
    invariant: "expires - created above the maximum age is outside the profile",
    file: "shared/signature/freshness.ts",
    original: "if (expires !== undefined && expires - created > maxSignatureAgeSeconds) {",
    replacement: "if (expires !== undefined && expires - created > 2 * maxSignatureAgeSeconds) {",
    tests: [REJECTIONS],
  },
  {
    id: "replay-window-too-short",
    invariant: "a nonce stays claimed for as long as a signature made with it can be fresh",
    file: "shared/signature/freshness.ts",
    original: "const byAge = params.created + window.maxSignatureAgeSeconds + window.clockSkewSeconds;",
    replacement: "const byAge = params.created + window.clockSkewSeconds;",
    tests: [REPLAY_GATEWAY],
  },
  {
    id: "base-field-name-unchecked",
    invariant: "a covered field name must be a lowercase token",
    file: "shared/signature/base.ts",
    original: 'if (!FIELD_NAME.test(name)) throw new VerigateError("malformed_signature", `not a lowercase field name: ${name}`);',
    replacement: "",
    tests: [REJECTIONS],
  },
  {
    id: "base-absent-field-empty",
    invariant: "a covered field that is absent is malformed, never signed as empty",
    file: "shared/signature/base.ts",
    original: 'if (value === null) throw new VerigateError("malformed_signature", `covered field absent: ${name}`);',
    replacement: 'if (value === null) return "";',
    tests: [REJECTIONS],
  },
  {
    id: "parse-component-parameters",
    invariant: "component parameters (;sf, ;req...) are refused, as they change what is signed",
    file: "shared/signature/parse.ts",
    original: "if (params.size > 0) throw malformed(`component parameters on ${value}`);",
    replacement: "",
    tests: [REJECTIONS],
  },
  {
    id: "parse-labels-differ",
    invariant: "Signature-Input and Signature must carry the same label",
    file: "shared/signature/parse.ts",
    original: "if (label !== signatureLabel) throw malformed(`labels differ: ${label} / ${signatureLabel}`);",
    replacement: "",
    tests: [REJECTIONS],
  },
  {
    id: "public-origin-ignored",
    invariant: "behind a proxy the signed @authority is PUBLIC_ORIGIN's, not the host the gateway sees",
    file: "shared/signature/message.ts",
    original: "authority: publicOrigin === undefined ? target.authority : splitUrl(publicOrigin).authority,",
    replacement: "authority: target.authority,",
    tests: [AUTH_TESTS, REJECTIONS],
  },

  // shared/crypto: the constant-time compare behind HMAC signatures, JSON digests and link tokens.
  {
    id: "compare-last-byte-only",
    invariant: "a MAC compare looks at every byte",
    file: "shared/crypto/encoding.ts",
    original: "diff |= (a[i] ?? 0) ^ (b[i] ?? 0);",
    replacement: "diff = (a[i] ?? 0) ^ (b[i] ?? 0);",
    tests: [AUTH_TESTS, TOKENS],
  },
  {
    id: "compare-stops-short",
    invariant: "a MAC compare reaches the last byte",
    file: "shared/crypto/encoding.ts",
    original: "for (let i = 0; i < a.length; i++) diff",
    replacement: "for (let i = 0; i < a.length - 1; i++) diff",
    tests: [AUTH_TESTS, TOKENS],
  },
  {
    id: "compare-length-ignored",
    invariant: "a MAC with extra characters after the genuine ones is not equal to it",
    file: "shared/crypto/encoding.ts",
    original: "if (a.length !== b.length) return false;",
    replacement: "",
    tests: [TOKENS],
  },

  // shared/keys: key records and scopes.
  {
    id: "scope-prefix-as-substring",
    invariant: "a scope's prefix must start the key: a key scoped to a/ has no rights on x/a/secret",
    file: "shared/keys/index.ts",
    original: "key.startsWith(scope.prefix)",
    replacement: "key.includes(scope.prefix)",
    tests: [MATRIX],
  },
  {
    id: "scopes-all-required",
    invariant: "each of a key's scopes grants on its own: one matching scope is enough",
    file: "shared/keys/index.ts",
    original: "return principal.scopes.some((scope) =>",
    replacement: "return principal.scopes.every((scope) =>",
    tests: [MATRIX],
  },
  {
    id: "scope-action-ignored",
    invariant: "a scope grants only the actions it lists",
    file: "shared/keys/index.ts",
    original: " && scope.actions.includes(action)",
    replacement: "",
    tests: [MATRIX],
  },
  {
    id: "revoked-key-usable",
    invariant: "a revoked key no longer signs, and its links stop",
    file: "shared/keys/registry.ts",
    original: 'if (!record || record.status !== "active") return null;',
    replacement: "if (!record) return null;",
    tests: [KEYS, PRESIGN],
  },
  {
    id: "expired-key-usable",
    invariant: "a key past its expires_at no longer signs",
    file: "shared/keys/registry.ts",
    original: "if (record.expires_at !== undefined && Date.parse(record.expires_at) <= nowMs) return null;",
    replacement: "",
    tests: [KEYS],
  },
  {
    id: "bootstrap-revocation-ignored",
    invariant: "a bootstrap admin key revoked through the API stays revoked",
    file: "shared/keys/registry.ts",
    original: "if (stored) return stored;",
    replacement: "if (stored && !this.#bootstrap.has(keyid)) return stored;",
    tests: [KEYS],
  },
  {
    id: "revocation-cached",
    invariant: "a key revoked through a gateway process stops signing there at once, whatever its lookup cache holds",
    file: "shared/keys/registry.ts",
    original:
      'await this.#metadata.put(KEY_PREFIX + keyid, { ...record, status: "revoked" });\n    // Immediate in this process; other processes see it once their entry is older than KEY_CACHE_TTL_MS.\n    this.#cache.invalidate(keyid);',
    replacement: 'await this.#metadata.put(KEY_PREFIX + keyid, { ...record, status: "revoked" });',
    tests: [KEYS, KEY_CACHE],
  },
  {
    id: "key-cache-unbounded",
    invariant: "another gateway process sees a revoked key within the key lookup bound",
    file: "shared/keys/lookup-cache.ts",
    original: "if (cached && nowMs < cached.expiresAtMs && nowMs >= cached.expiresAtMs - this.#ttlMs) return cached.record;",
    replacement: "if (cached) return cached.record;",
    tests: [KEY_CACHE],
  },

  // functions/middleware: authentication in protocol order, and authorization.
  {
    id: "alg-mismatch-ignored",
    invariant: "an alg parameter that disagrees with the key record is refused (issue #17, survivor 1)",
    file: "functions/middleware/auth.ts",
    original: "if (signature.params.alg !== undefined && signature.params.alg !== record.alg) {",
    replacement: "if (false) {",
    tests: [AUTH_HTTP],
  },
  {
    id: "body-coverage-not-asked",
    invariant: "the middleware asks the profile for content-digest coverage on a body (issue #17, survivor 2)",
    file: "functions/middleware/auth.ts",
    original: "checkProfile(parsed, { hasBody: withBody })",
    replacement: "checkProfile(parsed, { hasBody: false })",
    tests: [AUTH_TESTS, AUTH_HTTP],
  },
  {
    id: "digest-header-not-required",
    invariant: "a body without Content-Digest is digest_missing",
    file: "functions/middleware/auth.ts",
    original: 'if (withBody && !request.headers.has("content-digest")) throw new VerigateError("digest_missing");',
    replacement: "",
    tests: [AUTH_TESTS],
  },
  {
    id: "signature-not-verified",
    invariant: "a signature that does not verify is refused",
    file: "functions/middleware/auth.ts",
    original: "if (!(await verifySignature(base, signature.signature, verificationKey(record)))) {",
    replacement: "if (false) {",
    tests: [AUTH_TESTS],
  },
  {
    id: "replayed-nonce-accepted",
    invariant: "a (keyid, nonce) pair is accepted once",
    file: "functions/middleware/auth.ts",
    original: 'if (!claimed) throw new VerigateError("replayed_request", `nonce reused by ${record.keyid}`);',
    replacement: "",
    tests: [AUTH_TESTS, REPLAY_GATEWAY],
  },
  {
    id: "nonce-claim-expires-at-once",
    invariant: "a nonce claim lasts until the signature can no longer be fresh, not until now",
    file: "functions/middleware/auth.ts",
    original: "expiresAtSeconds: replayWindowEnd(signature.params, config) });",
    replacement: "expiresAtSeconds: nowSeconds });",
    tests: [REPLAY_GATEWAY],
  },
  {
    id: "soft-mode-waves-everything",
    invariant: "soft mode lets through authentication failures only: a store outage or a rate limit still fails",
    file: "functions/middleware/auth.ts",
    original: 'if (authMode !== "soft" || !isVerigateError(error) || !isAuthFailure(error.code)) throw error;',
    replacement: 'if (authMode !== "soft" || !isVerigateError(error)) throw error;',
    tests: [SOFT_MODE, REPLAY_GATEWAY],
  },
  {
    id: "soft-mode-refuses-replays",
    invariant: "soft mode lets a replayed request through, logged",
    file: "functions/middleware/auth.ts",
    original: '"signature_invalid", "replayed_request"]',
    replacement: '"signature_invalid"]',
    tests: [SOFT_MODE],
  },
  {
    id: "authorize-allows-all",
    invariant: "an object action outside the caller's scopes is 403",
    file: "functions/middleware/authorize.ts",
    original: 'if (!allows(principal, action, key)) throw new VerigateError("forbidden", `key ${principal.keyid} may not ${action} ${key}`, SHARE);',
    replacement: "",
    tests: [MATRIX],
  },
  {
    id: "admin-only-open",
    invariant: "/v1/keys needs an admin key",
    file: "functions/middleware/authorize.ts",
    original: 'if (!principal.admin) throw new VerigateError("forbidden", `key ${principal.keyid} is not an admin key`, SHARE);',
    replacement: "",
    tests: [KEYS],
  },
  {
    id: "json-body-digest-unchecked",
    invariant: "a JSON body is compared with its signed digest before it is parsed",
    file: "functions/middleware/body.ts",
    original: 'if (!timingSafeEqual(await sha256(bytes), expected)) throw new VerigateError("digest_mismatch");',
    replacement: "",
    tests: [AUTH_TESTS],
  },

  // functions: each route asks for its own action; listing narrows to the caller's scope; links.
  {
    id: "put-needs-read",
    invariant: "PUT needs write (issue #17, survivor 4)",
    file: "functions/routes/objects.ts",
    original: 'const principal = authorize(c, "write", key);',
    replacement: 'const principal = authorize(c, "read", key);',
    tests: [MATRIX],
  },
  {
    id: "get-needs-list",
    invariant: "GET and HEAD need read",
    file: "functions/routes/objects.ts",
    original: '    authorize(c, "read", key);\n    const manifest',
    replacement: '    authorize(c, "list", key);\n    const manifest',
    tests: [MATRIX],
  },
  {
    id: "delete-needs-write",
    invariant: "DELETE needs delete",
    file: "functions/routes/objects.ts",
    original: 'const principal = authorize(c, "delete", key);',
    replacement: 'const principal = authorize(c, "write", key);',
    tests: [MATRIX],
  },
  {
    id: "list-needs-read",
    invariant: "listing needs list",
    file: "functions/routes/objects.ts",
    original: 'principal.scopes.filter((scope) => scope.actions.includes("list"))',
    replacement: 'principal.scopes.filter((scope) => scope.actions.includes("read"))',
    tests: [MATRIX],
  },
  {
    id: "listing-not-narrowed",
    invariant: "a broad listing narrows to the caller's list scope, so no cursor names a hidden key (issue #17, survivor 5)",
    file: "functions/routes/objects.ts",
    original: "  return outermost[0] as string;",
    replacement: "  return requested;",
    tests: [OBJECT_ROUTES, OBJECTS_HTTP],
  },
  {
    id: "presign-without-read",
    invariant: "presign needs presign and read",
    file: "functions/routes/presign.ts",
    original: '  authorize(c, "read", request.key);\n',
    replacement: "",
    tests: [PRESIGN, MATRIX],
  },
  {
    id: "plan-without-read",
    invariant: "a direct download plan needs presign and read (issue 18)",
    file: "functions/routes/plans.ts",
    original: '  authorize(c, "read", request.key);\n',
    replacement: "",
    tests: [PLANS],
  },
  {
    id: "plan-storage-presign-ungated",
    invariant: "a direct download plan hands out a storage URL only with PRESIGN_STORAGE=on (issue 18)",
    file: "functions/routes/plans.ts",
    original: "const settings = storageGetSettings(config);",
    replacement: "const settings = config.s3 ?? storageGetSettings(config);",
    tests: [PLANS],
  },
  {
    id: "plan-window-uncut",
    invariant: "a plan covers at most MAX_PLAN_CHUNKS chunks and says where it stopped (issue 18)",
    file: "shared/objects/plan.ts",
    original: "const endChunk = Math.min(askedEndChunk, firstChunk + MAX_PLAN_CHUNKS);",
    replacement: "const endChunk = askedEndChunk;",
    tests: [PLANS],
  },
  {
    id: "link-claim-fails-open",
    invariant: "a replay store error while spending a single-use link is 503, never a download (issue #17, survivor 7)",
    file: "functions/routes/links.ts",
    original: "if (!(await claimOrFailClosed(vars.replay, id, { nowSeconds, expiresAtSeconds: exp })))",
    replacement: "if (!(await vars.replay.claim(id, { nowSeconds, expiresAtSeconds: exp }).catch(() => true)))",
    tests: [PRESIGN],
  },
  {
    id: "link-expiry-unchecked",
    invariant: "an expired link is 410",
    file: "functions/routes/links.ts",
    original: "if (nowSeconds > claims.exp) throw",
    replacement: "if (nowSeconds > claims.exp + 1) throw",
    tests: [PRESIGN],
  },
  {
    id: "link-revoked-issuer-allowed",
    invariant: "a link of a revoked or unknown issuer is 410",
    file: "functions/routes/links.ts",
    original: 'if (!issuer) throw new VerigateError("link_revoked", `issuer ${claims.kid} is revoked, expired or gone`);',
    replacement: "",
    tests: [PRESIGN],
  },
  {
    id: "single-use-not-spent",
    invariant: "a single-use link gives exactly one download",
    file: "functions/routes/links.ts",
    original: 'if (claims.nonce !== undefined && c.req.method === "GET") await spendLink',
    replacement: 'if (claims.nonce !== undefined && c.req.method === "PATCH") await spendLink',
    tests: [PRESIGN],
  },
  {
    id: "head-spends-single-use",
    invariant: "HEAD does not spend a single-use link",
    file: "functions/routes/links.ts",
    original: 'if (claims.nonce !== undefined && c.req.method === "GET") await spendLink',
    replacement: "if (claims.nonce !== undefined) await spendLink",
    tests: [PRESIGN],
  },

  // shared/presign: link tokens and presign requests.
  {
    id: "token-mac-unchecked",
    invariant: "a link token is honoured only when its MAC verifies",
    file: "shared/presign/mac-token.ts",
    original: "if (!timingSafeEqual(expected, utf8(token.slice(dot + 1)))) return null;",
    replacement: "",
    tests: [TOKENS, PRESIGN],
  },
  {
    id: "single-use-storage-accepted",
    invariant: "a storage presigned URL cannot be single-use (issue #17, survivor 6)",
    file: "shared/presign/request.ts",
    original: 'if (mode === "storage" && singleUse) throw new VerigateError("bad_request", "a storage URL cannot be single-use", SHARE);',
    replacement: "",
    tests: [PRESIGN],
  },
  {
    id: "presign-lifetime-cap-off-by-one",
    invariant: "a link lives at most PRESIGN_MAX_SECONDS",
    file: "shared/presign/request.ts",
    original: "(expiresIn as number) > maxSeconds",
    replacement: "(expiresIn as number) > maxSeconds + 1",
    tests: [PRESIGN],
  },

  // shared/replay: atomic claims that fail closed.
  {
    id: "claim-fails-open",
    invariant: "a replay store that cannot answer is 503 replay_store_unavailable, never a pass",
    file: "shared/replay/claim-id.ts",
    original: '    throw new VerigateError("replay_store_unavailable", JSON.stringify(describeError(error)), { cause: error });',
    replacement: "    return true;",
    tests: [REPLAY_GATEWAY, PRESIGN],
  },
  {
    id: "durable-object-claim-expires-early",
    invariant: "a Durable Object claim still holds at its expiry second",
    file: "shared/replay/durable-object.ts",
    original: "WHERE claims.expires_at < ?",
    replacement: "WHERE claims.expires_at <= ?",
    tests: [REPLAY_STORES],
  },
  {
    id: "memory-claim-expires-early",
    invariant: "a memory claim still holds at its expiry second",
    file: "shared/replay/memory.ts",
    original: "heldUntil >= nowSeconds",
    replacement: "heldUntil > nowSeconds",
    tests: [REPLAY_STORES],
  },
  {
    id: "dynamodb-conflict-passes",
    invariant: "a DynamoDB claim whose conditional write fails is a replay, not a pass",
    file: "shared/replay/dynamodb.ts",
    original: 'error.name === "ConditionalCheckFailedException") return false;',
    replacement: 'error.name === "ConditionalCheckFailedException") return true;',
    tests: [AWS_BACKENDS],
  },

  // shared/uploads: the upload session stores (issue 12).
  {
    id: "upload-session-durable-object-cas-ignored",
    invariant: "of concurrent updates of a session from one rev exactly one succeeds (Durable Object)",
    file: "shared/uploads/durable-object.ts",
    original: "WHERE rev = ? RETURNING id",
    replacement: "WHERE ? IS NOT NULL RETURNING id",
    tests: [UPLOAD_SESSION_STORES],
  },
  {
    id: "upload-session-dynamodb-cas-ignored",
    invariant: "of concurrent updates of a session from one rev exactly one succeeds (DynamoDB)",
    file: "shared/uploads/dynamodb.ts",
    original: 'ConditionExpression: "rev = :expected"',
    replacement: 'ConditionExpression: "attribute_exists(pk) OR rev = :expected"',
    tests: [UPLOAD_SESSION_DYNAMODB],
  },
  {
    id: "upload-session-dynamodb-part-outlives-delete",
    invariant: "a part sent while its session is deleted is not left behind, and putPart answers false",
    file: "shared/uploads/dynamodb.ts",
    original: "if ((await this.#sessionExpiry(id)) !== null) return true;",
    replacement: "return true;",
    tests: [UPLOAD_SESSION_DYNAMODB],
  },

  // Git LFS (issue 14): the batch API and the action routes.
  {
    id: "lfs-batch-oid-unchecked",
    invariant: "a batch object whose oid is not 64 lowercase hex is a 422 before anything is built from it",
    file: "shared/lfs/batch.ts",
    original: "if (!isOid(item.oid)) return",
    replacement: "if (false) return",
    tests: [LFS_HTTP],
  },
  {
    id: "lfs-batch-action-oid-unchecked",
    invariant: "an action token whose oid is not 64 lowercase hex is refused, even with a valid MAC",
    file: "shared/lfs/action-token.ts",
    original: "!isRepoName(repo) || !isOid(oid) ||",
    replacement: "!isRepoName(repo) ||",
    tests: [LFS_CORE],
  },
  {
    id: "lfs-batch-planted-served",
    invariant: "an object at lfs/<repo>/<oid> whose manifest does not hash to the oid is absent for LFS",
    file: "shared/lfs/batch.ts",
    original: "const stored = current?.sha256 === object.oid ? current : null;",
    replacement: "const stored = current;",
    tests: [LFS_HTTP],
  },
  {
    id: "lfs-batch-manifest-oid-unchecked",
    invariant: "a download action serves its pinned version only when its manifest's sha256 is the oid",
    file: "functions/routes/lfs-transfers.ts",
    original: "if (!manifest || !isLfsObject(manifest, claims.oid, claims.size)) throw",
    replacement: "if (!manifest) throw",
    tests: [LFS_HTTP],
  },
  {
    id: "lfs-batch-present-by-key",
    invariant: "LFS presence means the current manifest's sha256 and size are the object's, not that the key holds something",
    file: "shared/lfs/batch.ts",
    original: "return manifest !== null && manifest.sha256 === oid && manifest.size === size;",
    replacement: "return manifest !== null;",
    tests: [LFS_HTTP],
  },
  {
    id: "lfs-batch-repo-claim-unchecked",
    invariant: "an action href works only under the repository it was issued for",
    file: "functions/routes/lfs-transfers.ts",
    original: "if (claims.repo !== repo) throw",
    replacement: "if (false) throw",
    tests: [LFS_HTTP],
  },
  {
    id: "lfs-batch-upload-reusable",
    invariant: "an upload href takes one body: its nonce is spent in the replay store on first use",
    file: "functions/routes/lfs-transfers.ts",
    original: "    await spendUpload(c, claims);\n",
    replacement: "",
    tests: [LFS_HTTP],
  },
  {
    id: "lfs-batch-action-expiry-unchecked",
    invariant: "an action href stops working at its expiry",
    file: "functions/routes/lfs-transfers.ts",
    original: "if (Math.floor(nowMs / 1000) > claims.exp) throw",
    replacement: "if (false) throw",
    tests: [LFS_HTTP],
  },
  {
    id: "lfs-batch-revocation-unchecked",
    invariant: "revoking an LFS token stops the action hrefs issued under it",
    file: "functions/routes/lfs-transfers.ts",
    original: 'if (!caller) throw new VerigateError("link_revoked"',
    replacement: 'if (false) throw new VerigateError("link_revoked"',
    tests: [LFS_HTTP],
  },
  {
    id: "lfs-batch-verify-commits-mismatch",
    invariant: "a verify commits a storage upload only when the stored bytes hash to the oid",
    file: "shared/lfs/verify-upload.ts",
    original: "if (!timingSafeEqual(hashed.sha256, fromHex(claims.oid))) throw",
    replacement: "if (false) throw",
    tests: [LFS_STORAGE],
  },

  // shared/objects: verified uploads and downloads.
  {
    id: "upload-whole-digest-skipped",
    invariant: "an upload commits only when its whole SHA-256 matches the signed digest (storage that does not check: s3rver)",
    file: "shared/objects/upload.ts",
    original: "if (!timingSafeEqual(hashed.sha256, input.expectedSha256)) {",
    replacement: "if (false) {",
    tests: [UPLOADS_HTTP],
  },
  {
    id: "upload-short-body-accepted",
    invariant: "a body that ends before its Content-Length commits nothing",
    file: "shared/objects/hashed-stream.ts",
    original: "if (chunk.length < want) {",
    replacement: "if (false) {",
    tests: [OBJECT_CORE],
  },
  {
    id: "upload-long-body-accepted",
    invariant: "a body that runs past its Content-Length commits nothing",
    file: "shared/objects/hashed-stream.ts",
    original: "if ((await readBody(reader, 1)).length > 0) throw",
    replacement: "if ((await readBody(reader, 1)).length > 1) throw",
    tests: [OBJECT_CORE],
  },
  {
    id: "upload-size-limit-doubled",
    invariant: "a PUT above MAX_OBJECT_BYTES is 413 before any byte is read",
    file: "shared/objects/upload.ts",
    original: "if (input.length > input.maxObjectBytes) {",
    replacement: "if (input.length > 2 * input.maxObjectBytes) {",
    tests: [OBJECT_CORE],
  },
  {
    id: "upload-precondition-not-rechecked",
    invariant: "If-None-Match / If-Match hold atomically at commit: of concurrent writers exactly one wins (issue #10, finding 8)",
    file: "shared/objects/upload.ts",
    original: "const committed = await commitCurrent(deps, verified.key, manifest, condition, expected);",
    replacement: 'const committed = await commitCurrent(deps, verified.key, manifest, { kind: "any" }, expected);',
    tests: [OBJECT_CORE],
  },
  {
    id: "download-chunk-digest-skipped",
    invariant: "every chunk is verified against the manifest before its bytes are sent",
    file: "shared/objects/chunk-verifier.ts",
    original: "if (bytes.length !== expectedLength || actual !== expected) {",
    replacement: "if (bytes.length !== expectedLength) {",
    tests: [OBJECT_CORE, OBJECT_ROUTES],
  },
  {
    id: "tree-page-check-skipped",
    invariant: "a digest tree page is used only when it hashes to its parent's entry or the manifest's root (manifest v2)",
    file: "shared/objects/chunk-digests.ts",
    original: "if (!timingSafeEqual(actual, wanted)) {",
    replacement: "if (false) {",
    tests: [DIGEST_TREE, PLANS],
  },
  {
    id: "sweep-tree-pages-kept",
    invariant: "the sweep deletes a version's digest tree pages with its blob",
    file: "shared/objects/garbage.ts",
    original: "if (record.tree) {",
    replacement: "if (false) {",
    tests: [OBJECT_GC],
  },
  {
    id: "download-size-mismatch-skipped",
    invariant: "a stored blob whose size differs from the manifest is refused before the first byte",
    file: "shared/objects/download.ts",
    original: "if (stored.size !== manifest.size) {",
    replacement: "if (false) {",
    tests: [OBJECT_CORE],
  },
  {
    id: "key-dot-segment-accepted",
    invariant: "an object key has no '..' segment",
    file: "shared/objects/key.ts",
    original: 'if (segment === "" || segment === "." || segment === "..") {',
    replacement: 'if (segment === "" || segment === ".") {',
    tests: [OBJECT_KEYS],
  },
  {
    id: "in-flight-budget-never-sheds",
    invariant: "past MAX_IN_FLIGHT_BYTES a transfer is shed with 503 overloaded before its body or signature is read",
    file: "functions/middleware/in-flight.ts",
    original: "if (inFlightBytes > 0 && inFlightBytes + charge > maxInFlightBytes) {",
    replacement: "if (false) {",
    tests: [IN_FLIGHT],
  },
  {
    id: "in-flight-download-released-early",
    invariant: "a download is charged until its body has been written out, not only until its handler answered",
    file: "functions/middleware/in-flight.ts",
    original: "if (pipesSettled.length === 0) {",
    replacement: "if (true) {",
    tests: [IN_FLIGHT],
  },

  // shared/uploads: upload sessions.
  {
    id: "session-whole-digest-skipped",
    invariant: "complete commits a session only when the assembled object's whole SHA-256 matches the declared one",
    file: "shared/uploads/verify.ts",
    original: "if (!timingSafeEqual(sha.digest(), fromHex(session.sha256))) {",
    replacement: "if (false) {",
    tests: [SESSIONS_CORE],
  },
  {
    id: "session-part-digest-skipped",
    invariant: "a part whose bytes differ from its signed digest is refused and recorded nowhere (R2 checks no part checksum)",
    file: "shared/uploads/parts.ts",
    original: "if (!timingSafeEqual(sha256, input.sha256)) throw",
    replacement: "if (false) throw",
    tests: [SESSIONS_ROUTES],
  },
  {
    id: "session-other-keyid-allowed",
    invariant: "a session is visible only to the keyid that created it",
    file: "shared/uploads/access.ts",
    original: "session.keyid !== keyid ||",
    replacement: "",
    tests: [SESSIONS_CORE, SESSIONS_ROUTES],
  },
  {
    id: "session-commit-unconditional",
    invariant: "a session's precondition is enforced by the commit itself, not only at create",
    file: "shared/uploads/commit.ts",
    original: "return commitManifest(deps, committing, manifest, condition, current);",
    replacement: 'return commitManifest(deps, committing, manifest, { kind: "any" }, current);',
    tests: [SESSIONS_CORE],
  },
  {
    id: "session-lease-ignored",
    invariant: "one complete works on a session at a time: another one answers pending while the lease holds",
    file: "shared/uploads/complete.ts",
    original: "if (seen.lease && seen.lease.until_ms > deps.clock()) return pending(seen, BUSY_RETRY_SECONDS);",
    replacement: "",
    tests: [SESSIONS_CORE],
  },

  // Issue 15: encryption at rest and signed manifests.
  {
    id: "chunk-last-flag-dropped",
    invariant: "a blob cut at a chunk boundary fails: the final chunk's nonce carries the last-chunk flag",
    file: "shared/crypto/chunk-aead.ts",
    original: "nonce[NONCE_BYTES - 1] = last ? 1 : 0;",
    replacement: "",
    tests: [ENCRYPTION],
  },
  {
    id: "wrapped-key-unbound-from-object",
    invariant: "a wrapped data key opens only for the object key it was made for",
    file: "shared/crypto/envelope.ts",
    original: "textField(kid), textField(binding.key), textField(binding.version)",
    replacement: "textField(kid), textField(binding.version)",
    tests: [ENCRYPTION],
  },
  {
    id: "manifest-for-another-object-served",
    invariant: "a genuinely signed manifest is refused for another object key or pinned version (two manifests swapped)",
    file: "shared/objects/manifest-signature.ts",
    original: "if (manifest.key !== expected.key || (expected.version !== undefined && manifest.version !== expected.version)) {",
    replacement: "if (false) {",
    tests: [ENCRYPTION],
  },
  {
    id: "manifest-mac-unchecked",
    invariant: "a signed manifest is used only when its MAC verifies",
    file: "shared/objects/manifest-signature.ts",
    original: "if (!timingSafeEqual(utf8(actual), utf8(signature.mac))) {",
    replacement: "if (false) {",
    tests: [ENCRYPTION],
  },
  {
    id: "manifest-uncovered-field-accepted",
    invariant: "a manifest field the signature does not cover is refused, not trusted",
    file: "shared/objects/manifest-signature.ts",
    original: "for (const name of Object.keys(record)) if (!TOP_FIELDS.has(name)) throw",
    replacement: "for (const name of Object.keys(record)) if (false) throw",
    tests: [ENCRYPTION],
  },
  {
    id: "unsigned-manifest-without-flag",
    invariant: "with keys configured, an unsigned manifest reads only behind the explicit legacy flag",
    file: "shared/objects/manifest-signature.ts",
    original: "if (!policy.readUnsignedLegacy) throw",
    replacement: "if (false) throw",
    tests: [ENCRYPTION],
  },
  {
    id: "unsigned-encrypted-manifest-read",
    invariant: "an encrypted manifest without a signature is never read, flag or not",
    file: "shared/objects/manifest-signature.ts",
    original: "if (manifest.encryption !== undefined) throw",
    replacement: "if (false) throw",
    tests: [ENCRYPTION],
  },
  {
    id: "deployment-key-check-skipped",
    invariant: "a key id whose bytes changed in ENCRYPTION_KEYS is 503 misconfigured, not reported as tampering",
    file: "shared/objects/manifest-signature.ts",
    original: "if ((await policy.ring.keyCheck(signature.kid)) !== signature.key_check) {",
    replacement: "if (false) {",
    tests: [ENCRYPTION],
  },

  // Issue 14: Git LFS.
  {
    id: "lfs-token-secret-unchecked",
    invariant: "an LFS token works only with its own secret, compared in constant time against the stored hash",
    file: "shared/lfs/tokens.ts",
    original: "if (!timingSafeEqual(await sha256(secret), fromHex(record.secret_sha256))) return null;",
    replacement: "",
    tests: [LFS_AUTH],
  },
  {
    id: "lfs-token-expiry-ignored",
    invariant: "an LFS token stops working when it expires",
    file: "shared/lfs/tokens.ts",
    original: "if (Date.parse(record.expires_at) <= nowMs) return null;",
    replacement: "",
    tests: [LFS_AUTH],
  },
  {
    id: "lfs-token-expiry-late",
    invariant: "an LFS token stops working at its expires_at, not a millisecond later",
    file: "shared/lfs/tokens.ts",
    original: "if (Date.parse(record.expires_at) <= nowMs) return null;",
    replacement: "if (Date.parse(record.expires_at) < nowMs) return null;",
    tests: [LFS_AUTH],
  },
  {
    id: "lfs-token-repo-unchecked",
    invariant: "an LFS token works for its own repository only",
    file: "shared/lfs/tokens.ts",
    original: "if (!record || record.repo !== repo) return null;",
    replacement: "if (!record) return null;",
    tests: [LFS_AUTH],
  },
  {
    id: "lfs-token-minting-key-unchecked",
    invariant: "an LFS token stops working when its minting key can no longer sign (revoked, expired)",
    file: "shared/lfs/tokens.ts",
    original: "await keys.findUsable(record.keyid, nowMs)",
    replacement: "await keys.find(record.keyid)",
    tests: [LFS_AUTH],
  },
  {
    id: "lfs-token-scope-unchecked-on-use",
    invariant: "an LFS token stops working when its minting key's scopes no longer cover the repository for its access",
    file: "shared/lfs/tokens.ts",
    original: "if (!key || !mayHoldLfsToken(key, repo, record.access)) return null;",
    replacement: "if (!key) return null;",
    tests: [LFS_AUTH],
  },
  {
    id: "lfs-token-mint-unscoped",
    invariant: "only an admin key or a key whose scopes cover the repository mints a token for it",
    file: "shared/lfs/tokens.ts",
    original: "if (!mayHoldLfsToken(minter, request.repo, request.access)) {",
    replacement: "if (false) {",
    tests: [LFS_TOKENS_HTTP],
  },
  {
    id: "lfs-token-write-needs-no-write-scope",
    invariant: "a write token needs write on the repository's prefix, not only read",
    file: "shared/lfs/tokens.ts",
    original: '(access === "read" || allows(key, "write", prefix))',
    replacement: "true",
    tests: [LFS_AUTH, LFS_TOKENS_HTTP],
  },
  {
    id: "lfs-token-unauthenticated-mints",
    invariant: "the unauthenticated caller of AUTH_MODE=off/soft mints no LFS token",
    file: "shared/lfs/tokens.ts",
    original: 'if (isReservedKeyid(minter.keyid)) throw new VerigateError("forbidden"',
    replacement: 'if (false) throw new VerigateError("forbidden"',
    tests: [LFS_AUTH],
  },
  {
    id: "lfs-token-read-writes",
    invariant: "a read token can neither upload nor lock",
    file: "functions/middleware/lfs-auth.ts",
    original: 'if (caller.access !== "write") throw',
    replacement: "if (false) throw",
    tests: [LFS_AUTH],
  },
  {
    id: "lfs-token-list-unfiltered",
    invariant: "a key that is not an admin key lists only the tokens it minted",
    file: "shared/lfs/tokens.ts",
    original: "(viewer.admin || record.keyid === viewer.keyid)",
    replacement: "true",
    tests: [LFS_TOKENS_HTTP],
  },
  {
    id: "lfs-token-revoke-by-anyone",
    invariant: "only an admin key or the minting key revokes a token; to any other key it does not exist",
    file: "shared/lfs/tokens.ts",
    original: "if (!record || !(caller.admin || record.keyid === caller.keyid)) return null;",
    replacement: "if (!record) return null;",
    tests: [LFS_TOKENS_HTTP],
  },
  // Issue 14: Git LFS locks, one owner per path.
  {
    id: "lfs-lock-create-unconditional-durable-object",
    invariant: "a held path is never locked again: the Durable Object inserts only into a free path",
    file: "shared/lfs/locks-durable-object.ts",
    original: "ON CONFLICT(path) DO NOTHING RETURNING path",
    replacement: "ON CONFLICT(path) DO UPDATE SET id = excluded.id, owner = excluded.owner, locked_at = excluded.locked_at RETURNING path",
    tests: [LFS_LOCK_STORES],
  },
  {
    id: "lfs-lock-create-unconditional-dynamodb",
    invariant: "a held path is never locked again: the DynamoDB put is conditional on the path being free",
    file: "shared/lfs/locks-dynamodb.ts",
    original: ', ConditionExpression: "attribute_not_exists(pk)" }',
    replacement: " }",
    tests: [LFS_LOCK_DYNAMODB],
  },
  {
    id: "lfs-lock-owner-check-durable-object",
    invariant: "only a lock's owner removes it without force (Durable Object)",
    file: "shared/lfs/locks-durable-object.ts",
    original: "if (row.owner !== owner && !force) return { notOwner: lock };",
    replacement: "",
    tests: [LFS_LOCK_STORES],
  },
  {
    id: "lfs-lock-owner-check-dynamodb",
    invariant: "only a lock's owner removes it without force (DynamoDB)",
    file: "shared/lfs/locks-dynamodb.ts",
    original: "if (lock.owner.name !== owner && !force) return { notOwner: lock };",
    replacement: "",
    tests: [LFS_LOCK_DYNAMODB],
  },
  {
    id: "lfs-lock-unlock-unconditional-dynamodb",
    invariant: "of unlocks racing for one lock exactly one removes it, and never a newer lock on the path",
    file: "shared/lfs/locks-dynamodb.ts",
    original: `          ConditionExpression: "#id = :id",
          ExpressionAttributeNames: ID_NAME,
          ExpressionAttributeValues: { ":id": { S: id } },
`,
    replacement: "",
    tests: [LFS_LOCK_DYNAMODB],
  },
  {
    id: "lfs-lock-force-ignored",
    invariant: "an unlock of another owner's lock needs force",
    file: "functions/routes/lfs-locks.ts",
    original: "await c.var.lfsLocks.remove(caller.repo, id, caller.owner, force)",
    replacement: "await c.var.lfsLocks.remove(caller.repo, id, caller.owner, true)",
    tests: [LFS_LOCKS_HTTP],
  },
  {
    id: "lfs-lock-read-token-locks",
    invariant: "a read token cannot lock",
    file: "functions/routes/lfs-locks.ts",
    original: `    const caller = requireLfsWrite(c);
    const { path } = parseCreateLock(`,
    replacement: `    const caller = requireLfsCaller(c);
    const { path } = parseCreateLock(`,
    tests: [LFS_LOCKS_HTTP],
  },
  {
    id: "lfs-lock-verify-all-ours",
    invariant: "verify puts another owner's lock in theirs, which halts a push touching its file",
    file: "functions/routes/lfs-locks.ts",
    original: "const ours = locks.filter((lock) => lock.owner.name === caller.owner);",
    replacement: "const ours = locks;",
    tests: [LFS_LOCKS_HTTP],
  },
  {
    id: "lfs-url-request-origin",
    invariant: "behind a front (always, for a Function URL) lfs_url names PUBLIC_ORIGIN, the origin git-lfs can reach",
    file: "functions/routes/lfs-tokens.ts",
    original: "const lfsUrl = `${publicOrigin(c)}/lfs/${record.repo}`;",
    replacement: "const lfsUrl = `${new URL(c.req.url).origin}/lfs/${record.repo}`;",
    tests: [LFS_GIT],
  },
  {
    id: "lfs-cli-fixed-credential-helper",
    invariant: "the credential setup the CLI prints forgets a token git rejects, so git-lfs 3.3 does not resubmit it in a loop",
    file: "client/cli/commands/lfs.ts",
    original: '`git config credential.${origin}.helper "store --file=$(git rev-parse --absolute-git-dir)/verigate-lfs-credentials"`,',
    replacement: "`git config credential.${origin}.helper '!f() { test \"$1\" = get && echo username=lfs && echo password=${created.token}; }; f'`,",
    tests: [CLI],
  },
  {
    id: "enc-read-unverified",
    invariant: "a manifest a metadata writer altered or swapped is used without its signature checked",
    file: "shared/objects/manifest.ts",
    original: "return verified(deps, await deps.metadata.get<StoredManifest>(currentKey(key)), { key });",
    replacement: "return deps.metadata.get<StoredManifest>(currentKey(key));",
    tests: [ENC_MANIFESTS_HTTP],
  },
  {
    id: "enc-write-unsigned",
    invariant: "manifests are written unsigned with ENCRYPTION_KEYS set, so every read of them is refused or unprotected",
    file: "shared/objects/manifest.ts",
    original: "return ring === null ? Promise.resolve(manifest) : signManifest(ring, manifest);",
    replacement: "return Promise.resolve(manifest);",
    tests: [ENC_MANIFESTS_HTTP, ENC_REWRAP],
  },
  {
    id: "enc-legacy-flag-always-on",
    invariant: "unsigned manifests are served without the operator's explicit UNSIGNED_MANIFESTS=read",
    file: "shared/config/encryption.ts",
    original: 'readUnsignedLegacy: unsignedManifests === "read"',
    replacement: "readUnsignedLegacy: true",
    tests: [ENC_MANIFESTS_HTTP],
  },
  {
    id: "enc-rewrap-launders",
    invariant: "the rewrap pass signs a forged or unsigned manifest instead of leaving it refused",
    file: "shared/objects/rewrap.ts",
    original: "const manifest = await verifyManifest(stored, expected, policy);",
    replacement: "const manifest = stored;",
    tests: [ENC_REWRAP],
  },
  {
    id: "enc-rewrap-unconditional",
    invariant: "a rewrap rewrite replaces an upload that committed meanwhile with the older version",
    file: "shared/objects/rewrap.ts",
    original: 'const swapped = await deps.metadata.swap(recordKey, rewritten, { kind: "tag", tag: stored.sha256 }, MANIFEST_TAG_FIELD);',
    replacement: 'const swapped = await deps.metadata.swap(recordKey, rewritten, { kind: "any" }, MANIFEST_TAG_FIELD);',
    tests: [ENC_REWRAP],
  },
  {
    id: "enc-rewrap-same-bytes-not-restored",
    invariant: "a new version of the same bytes that committed during a rewrite is replaced by the older version",
    file: "shared/objects/rewrap.ts",
    original: "if (swapped.previous !== null && swapped.previous.version !== stored.version) {",
    replacement: "if (false) {",
    tests: [ENC_REWRAP],
  },
  {
    id: "enc-rewrap-not-admin-only",
    invariant: "any signed key can start, advance or read the encryption rewrap pass",
    file: "functions/routes/admin-encryption.ts",
    original: "  .use(adminOnly())\n",
    replacement: "",
    tests: [ENC_MANIFESTS_HTTP],
  },
];
