/**
 * Bucket and table names copied from documentation and tutorials. A deployment that still carries one
 * was not configured on purpose, so the gateway refuses to serve rather than write to somebody else's bucket.
 */
const EXAMPLE_NAMES = new Set([
  "my-bucket",
  "mybucket",
  "example-bucket",
  "examplebucket",
  "your-bucket",
  "your-bucket-name",
  "bucket-name",
  "my-bucket-name",
  "test-bucket",
  "my-test-bucket",
  "amzn-s3-demo-bucket",
  "doc-example-bucket",
  "awsexamplebucket",
  "awsexamplebucket1",
  "my-table",
  "example-table",
  "your-table-name",
  "<bucket>",
  "<bucket-name>",
  "changeme",
]);

export function isExampleName(name: string): boolean {
  return EXAMPLE_NAMES.has(name.trim().toLowerCase());
}
