import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalS3, type LocalServer, runDynalite, runS3rver } from "../../../scripts/local-aws.ts";

export { LOCAL_AWS_REGION, LOCAL_DYNAMODB_CREDENTIALS, type LocalS3, type LocalServer } from "../../../scripts/local-aws.ts";

/** s3rver on a free loopback port, storing in a fresh temporary directory that `stop` removes. */
export async function startS3rver(bucket = "verigate-local"): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), "verigate-s3rver-"));
  const s3 = await runS3rver({ bucket, directory });
  return {
    ...s3,
    stop: async () => {
      await s3.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** dynalite in memory on a free loopback port. */
export function startDynalite(): Promise<LocalServer> {
  return runDynalite();
}
