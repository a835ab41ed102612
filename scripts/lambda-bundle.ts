import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ENTRY = fileURLToPath(new URL("../functions/aws/lambda.ts", import.meta.url));
export const DEFAULT_LAMBDA_OUTFILE = fileURLToPath(new URL("../dist/lambda/index.mjs", import.meta.url));

/**
 * Bundles the Lambda entry with every dependency, the AWS SDK included: the SDK the Node 22 runtime ships
 * changes version under a deployed function, while a bundled one is the version the tests ran against.
 * Returns the output path and the imports left outside the bundle, which must all be Node built-ins.
 */
export async function buildLambda(outfile = DEFAULT_LAMBDA_OUTFILE): Promise<{ outfile: string; external: string[] }> {
  const result = await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    // The ES module builds of the AWS SDK: its CommonJS builds `require` Node built-ins, which an ES module bundle cannot.
    mainFields: ["module", "main"],
    metafile: true,
    logLevel: "warning",
  });
  const output = Object.values(result.metafile.outputs)[0];
  const external = [...new Set((output?.imports ?? []).filter((entry) => entry.external).map((entry) => entry.path))].sort();
  return { outfile, external };
}

/** True for what the Lambda Node runtime resolves by itself. */
export function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || builtinModules.includes(specifier);
}
