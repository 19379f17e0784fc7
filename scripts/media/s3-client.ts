import type { S3Client } from "@aws-sdk/client-s3";
import type { Config } from "../../src/config/index.ts";
import { makeS3Client } from "../../src/infra/storage/s3.ts";

/** The bucket of S3_* for the media commands: the store's client recipe, with one more retry for long runs. */
export function mediaS3Client(
  s3: Config["storage"]["s3"],
  extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
): S3Client {
  return makeS3Client(s3, { maxAttempts: 3, ...extra });
}
