/**
 * Child process of `npm run bench`: s3rver and dynalite on loopback, in a process of their own so the
 * gateway under test does not share its event loop with them. Prints `{"ready": {...}}`, stops on SIGTERM.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalAws } from "../../scripts/local-aws.ts";

const s3Directory = await mkdtemp(join(tmpdir(), "verigate-bench-s3-"));
const { vars, stop } = await startLocalAws({ bucket: "verigate-bench", table: "verigate-bench", s3Directory });

process.once("SIGTERM", () => {
  void stop()
    .finally(() => rm(s3Directory, { recursive: true, force: true }))
    .then(() => process.exit(0));
});
console.log(JSON.stringify({ ready: vars }));
