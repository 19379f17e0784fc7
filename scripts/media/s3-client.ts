import { S3Client } from "@aws-sdk/client-s3";
import type { Config } from "../../src/config.ts";

/**
 * The bucket of S3_* for the media commands. `WHEN_REQUIRED`: S3-compatible servers that do not know the newer
 * checksums store streamed uploads corrupted (LIBRARY-FACTS); checksums we want are sent explicitly.
 */
export function mediaS3Client(
  s3: Config["storage"]["s3"],
  extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials:
      s3.accessKeyId && s3.secretAccessKey
        ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
        : undefined,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 3,
    ...extra,
  });
}
