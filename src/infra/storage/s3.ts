import type { S3Client } from "@aws-sdk/client-s3";
import { lazyModule } from "../lazy-module.ts";
import { assertSafeKey, type BlobStore, contentTypeOf, IMMUTABLE_CACHE_CONTROL } from "./blob-store.ts";

export type S3BlobStoreOptions = {
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  timeoutMs: number;
  /** MEDIA_PUBLIC_BASE_URL (a CDN in front of the bucket), else the API's own media path. */
  mediaBaseUrl: string;
};

// The SDK loads on the first storage call, not at start: ~1 s of module load the first request does not need.
const sdk = lazyModule(() => require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3"));
const presigner = lazyModule(
  () => require("@aws-sdk/s3-request-presigner") as typeof import("@aws-sdk/s3-request-presigner"),
);

/** Any S3-compatible store. Every request carries a deadline. The client is made on first use. */
export function createS3BlobStore(opts: S3BlobStoreOptions): BlobStore {
  const lazyClient = lazyModule(() => makeS3Client(opts));
  const deadline = () => ({ abortSignal: AbortSignal.timeout(opts.timeoutMs) });

  return {
    driver: "s3",

    async put(key, bytes, contentType) {
      assertSafeKey(key);
      const { PutObjectCommand } = sdk();
      await lazyClient().send(
        new PutObjectCommand({
          Bucket: opts.bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
          ContentLength: bytes.byteLength,
          CacheControl: IMMUTABLE_CACHE_CONTROL,
        }),
        deadline(),
      );
    },

    async get(key) {
      assertSafeKey(key);
      const { GetObjectCommand, NoSuchKey, S3ServiceException } = sdk();
      try {
        const res = await lazyClient().send(
          new GetObjectCommand({ Bucket: opts.bucket, Key: key }),
          deadline(),
        );
        if (!res.Body) return undefined;
        const bytes = await res.Body.transformToByteArray();
        return { body: bytes, contentType: res.ContentType ?? contentTypeOf(key), size: bytes.byteLength };
      } catch (err) {
        if (
          err instanceof NoSuchKey ||
          (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)
        ) {
          return undefined;
        }
        throw err;
      }
    },

    async size(key) {
      assertSafeKey(key);
      const { HeadObjectCommand, S3ServiceException } = sdk();
      try {
        const head = await lazyClient().send(
          new HeadObjectCommand({ Bucket: opts.bucket, Key: key }),
          deadline(),
        );
        return head.ContentLength;
      } catch (err) {
        if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return undefined;
        throw err;
      }
    },

    async delete(keys) {
      // One request per key: DeleteObjects needs Content-MD5, which not every S3-compatible server accepts.
      const { DeleteObjectCommand } = sdk();
      await Promise.all(
        keys.map((key) => {
          assertSafeKey(key);
          return lazyClient().send(new DeleteObjectCommand({ Bucket: opts.bucket, Key: key }), deadline());
        }),
      );
    },

    async refresh(keys) {
      // A copy onto itself must replace the metadata (S3 refuses an unchanged copy), so it is restated.
      const { CopyObjectCommand } = sdk();
      await Promise.all(
        keys.map((key) => {
          assertSafeKey(key);
          return lazyClient().send(
            new CopyObjectCommand({
              Bucket: opts.bucket,
              Key: key,
              // URL-encoded per path segment: some S3-compatible servers do not decode an encoded "/".
              CopySource: `${opts.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
              MetadataDirective: "REPLACE",
              ContentType: contentTypeOf(key),
              CacheControl: IMMUTABLE_CACHE_CONTROL,
            }),
            deadline(),
          );
        }),
      );
    },

    publicUrl(key) {
      assertSafeKey(key);
      return `${opts.mediaBaseUrl}/${key}`;
    },

    async presignPut(key, put) {
      assertSafeKey(key);
      const { PutObjectCommand } = sdk();
      const command = new PutObjectCommand({
        Bucket: opts.bucket,
        Key: key,
        ContentType: put.contentType,
        ContentLength: put.contentLength,
        ...(put.sha256Base64 ? { ChecksumSHA256: put.sha256Base64 } : {}),
      });
      // Signed as headers (not hoisted into the query): S3 refuses a PUT whose type, length or checksum differ.
      const headers: Record<string, string> = {
        "content-type": put.contentType,
        "content-length": String(put.contentLength),
        ...(put.sha256Base64 ? { "x-amz-checksum-sha256": put.sha256Base64 } : {}),
      };
      const url = await presigner().getSignedUrl(lazyClient(), command, {
        expiresIn: put.expiresInSeconds,
        signableHeaders: new Set(Object.keys(headers)),
        unhoistableHeaders: new Set(put.sha256Base64 ? ["x-amz-checksum-sha256"] : []),
      });
      return { url, headers };
    },

    async presignGet(key, get) {
      assertSafeKey(key);
      const { GetObjectCommand } = sdk();
      return presigner().getSignedUrl(
        lazyClient(),
        new GetObjectCommand({ Bucket: opts.bucket, Key: key, ResponseCacheControl: get.cacheControl }),
        { expiresIn: get.expiresInSeconds },
      );
    },
  };
}

/** The one S3 client recipe (the store and the media commands): `extra` overrides, e.g. their retry count. */
export function makeS3Client(
  opts: Pick<
    S3BlobStoreOptions,
    "endpoint" | "region" | "forcePathStyle" | "accessKeyId" | "secretAccessKey"
  >,
  extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
): S3Client {
  return new (sdk().S3Client)({
    endpoint: opts.endpoint,
    region: opts.region,
    forcePathStyle: opts.forcePathStyle,
    credentials:
      opts.accessKeyId && opts.secretAccessKey
        ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey }
        : undefined,
    // Without these, S3-compatible servers that do not know the newer checksums store streamed uploads corrupted.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 2,
    ...extra,
  });
}
