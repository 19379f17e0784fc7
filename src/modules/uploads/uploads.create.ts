import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { UPLOADS_PREFIX } from "../../infra/storage/lifecycle-rules.ts";
import { mediaFlowMetrics } from "../../infra/storage/media-flow-metrics.ts";
import { signMediaPathUntil } from "../../infra/storage/media-signing.ts";
import { countUnclaimedUploads, deleteUploadRows, insertUpload } from "./uploads.repo.ts";
import type { CreateUpload, UploadTicket } from "./uploads.schemas.ts";

export type UploadDeps = Pick<Deps, "config" | "db" | "storage" | "clock" | "metrics" | "logger">;

/** Where the local driver accepts an upload's bytes (the API itself, behind an HMAC signature). */
export function localUploadPath(uploadId: string): string {
  return `/v1/uploads/${uploadId}`;
}

/** Under the prefix the bucket's lifecycle rule expires after MEDIA_UPLOADS_EXPIRE_DAYS (the sweep's backstop). */
export const uploadKey = (uploadId: string) => `${UPLOADS_PREFIX}${uploadId}`;

const hexToBase64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");

/**
 * Hands out one signed PUT for one photo: a presigned S3 PUT bounded to the declared type, size (and SHA-256),
 * or, with the local driver, a signed URL of the API that enforces the same. The row is written first, so an
 * object under `uploads/` always has a row the sweep finds. At most UPLOADS_MAX_OUTSTANDING unclaimed per user.
 */
export async function createUpload(
  deps: UploadDeps,
  userId: string,
  input: CreateUpload,
): Promise<UploadTicket> {
  const { uploads, mediaFlows } = deps.config;
  if (input.contentLength > uploads.maxFileBytes) {
    throw new AppError("payload_too_large", `Each photo may be at most ${uploads.maxFileBytes} bytes.`);
  }
  // A check, then an insert: two racing requests can pass the cap by one each, which a cap on storage tolerates.
  if ((await countUnclaimedUploads(deps.db.primary, userId)) >= mediaFlows.maxOutstandingUploads) {
    throw new AppError(
      "upload_limit_reached",
      `At most ${mediaFlows.maxOutstandingUploads} uploads may wait to be used; identify with them first.`,
      { retryAfterSeconds: mediaFlows.uploadUrlTtlSeconds },
    );
  }
  const id = Bun.randomUUIDv7();
  const key = uploadKey(id);
  const expiresAtSec = Math.floor(deps.clock.now() / 1000) + mediaFlows.uploadUrlTtlSeconds;
  await insertUpload(deps.db.primary, {
    id,
    user_id: userId,
    storage_key: key,
    content_type: input.contentType,
    content_length: input.contentLength,
    sha256: input.sha256 ?? null,
    expires_at: new Date(expiresAtSec * 1000),
  });
  const issued = mediaFlowMetrics(deps.metrics.registry).signedUrlsIssued;
  const expiresAt = new Date(expiresAtSec * 1000).toISOString();
  if (deps.storage.presignPut) {
    try {
      const signed = await deps.storage.presignPut(key, {
        contentType: input.contentType,
        contentLength: input.contentLength,
        ...(input.sha256 ? { sha256Base64: hexToBase64(input.sha256) } : {}),
        expiresInSeconds: mediaFlows.uploadUrlTtlSeconds,
      });
      issued.labels("upload_s3").inc();
      return { uploadId: id, url: signed.url, method: "PUT", headers: signed.headers, expiresAt };
    } catch (err) {
      await deleteUploadRows(deps.db.primary, [id]);
      throw new AppError("service_unavailable", "The image store is not available; retry later.", {
        retryAfterSeconds: 5,
        cause: err,
      });
    }
  }
  issued.labels("upload_local").inc();
  return {
    uploadId: id,
    url: signMediaPathUntil(mediaFlows.mediaUrlSecret, localUploadPath(id), expiresAtSec),
    method: "PUT",
    headers: {
      "content-type": input.contentType,
      "content-length": String(input.contentLength),
      ...(input.sha256 ? { "x-amz-checksum-sha256": hexToBase64(input.sha256) } : {}),
    },
    expiresAt,
  };
}
