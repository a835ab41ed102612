/** Reported by /healthz; kept equal to package.json's version by test/node/version.test.ts. */
export const VERSION = "0.1.0";
