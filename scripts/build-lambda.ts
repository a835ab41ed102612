/** `npm run build:lambda`: dist/lambda/index.mjs, the code `sam deploy` uploads (deploy/template.yaml). */
import { relative } from "node:path";
import { stat } from "node:fs/promises";
import { buildLambda, isNodeBuiltin } from "./lambda-bundle.ts";

const { outfile, external } = await buildLambda();
const unresolved = external.filter((specifier) => !isNodeBuiltin(specifier));
if (unresolved.length > 0) {
  console.error(`The bundle imports modules the Lambda runtime does not provide: ${unresolved.join(", ")}`);
  process.exit(1);
}
const { size } = await stat(outfile);
console.log(`Built ${relative(process.cwd(), outfile)} (${(size / 1024 / 1024).toFixed(2)} MiB).`);
