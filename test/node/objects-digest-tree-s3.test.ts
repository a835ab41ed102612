import { afterAll, beforeAll } from "vitest";
import { S3ObjectStorage } from "../../shared/storage/s3.ts";
import { nodeStreams } from "../../shared/streams/node.ts";
import { describeTreeReads } from "../support/tree-read-cases.ts";
import { LOCAL_AWS_REGION, type LocalS3, startS3rver } from "./support/aws-local.ts";

/** The digest tree read cases on the AWS build's storage: S3 (s3rver) and the Node stream runtime. */
let s3: LocalS3;

beforeAll(async () => {
  s3 = await startS3rver();
});

afterAll(async () => {
  await s3?.stop();
});

describeTreeReads({
  name: "S3 (s3rver)",
  storage: () =>
    new S3ObjectStorage({
      endpoint: s3.endpoint,
      region: LOCAL_AWS_REGION,
      bucket: s3.bucket,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    }),
  streams: nodeStreams,
});
