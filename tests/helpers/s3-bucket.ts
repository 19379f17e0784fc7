/**
 * The run's S3 server (s3rver, started by scripts/test.ts): the storage settings that point an app or a script at
 * it, a client that talks to it directly (past the app), and whether an object is in the bucket.
 */
import { HeadObjectCommand, NotFound, S3Client } from "@aws-sdk/client-s3";
import { testEnv } from "./env.ts";

/** S3_* settings for the run's bucket; `endpoint` to go through something in between (a counting proxy). */
export function s3StorageEnv(endpoint = testEnv.s3.endpoint): Record<string, string> {
  const s3 = testEnv.s3;
  return {
    STORAGE_DRIVER: "s3",
    S3_ENDPOINT: endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: "true",
  };
}

/** Straight to the S3 server. Checksums only when required: s3rver does not implement the newer ones. */
export function s3Client(): S3Client {
  const s3 = testEnv.s3;
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export async function objectExists(key: string): Promise<boolean> {
  try {
    await s3Client().send(new HeadObjectCommand({ Bucket: testEnv.s3.bucket, Key: key }));
    return true;
  } catch (err) {
    if (
      err instanceof NotFound ||
      (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
    )
      return false;
    throw err;
  }
}
