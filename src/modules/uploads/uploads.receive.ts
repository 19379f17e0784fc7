import { AppError } from "../../core/app-error.ts";
import { verifyMediaPath } from "../../infra/storage/media-signing.ts";
import { localUploadPath, type UploadDeps } from "./uploads.create.ts";
import { findUpload } from "./uploads.repo.ts";

export type LocalUpload = {
  uploadId: string;
  expires?: number | undefined;
  signature?: string | undefined;
  contentType: string;
  body: ReadableStream<Uint8Array> | null;
};

/**
 * The local driver's side of a direct upload: what S3 enforces for a presigned PUT, done by the API. The
 * signature and expiry (403 / 410), an upload not yet claimed, exactly the declared type (415) and size (413 when
 * larger, 400 when shorter), the declared SHA-256 when there is one (422); then the bytes go under `uploads/`.
 * Sending the same upload again replaces the object, as a second PUT to S3 would.
 */
export async function receiveLocalUpload(deps: UploadDeps, put: LocalUpload): Promise<void> {
  const now = deps.clock.now();
  const check = verifyMediaPath(
    deps.config.mediaFlows.mediaUrlSecret,
    localUploadPath(put.uploadId),
    put,
    now,
  );
  if (check === "invalid") throw new AppError("invalid_link_signature", "This upload URL is not valid.");
  if (check === "expired")
    throw new AppError("link_expired", "This upload URL has expired; ask for a new one.");
  const row = await findUpload(deps.db.primary, put.uploadId);
  if (!row || row.claimed_at !== null) {
    throw new AppError("upload_unavailable", "This upload was already used or removed.");
  }
  const mediaType = put.contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType !== row.content_type) {
    throw new AppError("unsupported_media_type", `Send the photo as ${row.content_type}, as declared.`);
  }
  const bytes = await readAtMost(put.body, row.content_length);
  if (bytes.byteLength !== row.content_length) {
    throw new AppError("validation_failed", `Send exactly ${row.content_length} bytes, as declared.`, {
      errors: [
        { path: "body", message: `${bytes.byteLength} bytes received, ${row.content_length} declared` },
      ],
    });
  }
  if (row.sha256 && new Bun.CryptoHasher("sha256").update(bytes).digest("hex") !== row.sha256) {
    throw new AppError("upload_checksum_mismatch", "The bytes do not match the declared SHA-256.");
  }
  try {
    await deps.storage.put(row.storage_key, bytes, row.content_type);
  } catch (err) {
    throw new AppError("service_unavailable", "The image store is not available; retry later.", {
      retryAfterSeconds: 5,
      cause: err,
    });
  }
}

/** Reads the body, refusing (413) as soon as it passes `limit` bytes. */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new AppError("payload_too_large", `The upload was declared as ${limit} bytes.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
