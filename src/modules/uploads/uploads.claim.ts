import { AppError, type ErrorCode } from "../../core/app-error.ts";
import { ImageRejectedError, readImageHeader } from "../../infra/images/image-pipeline.ts";
import { type ImageFormat, sniffImageFormat } from "../../infra/images/magic-bytes.ts";
import { mediaFlowMetrics } from "../../infra/storage/media-flow-metrics.ts";
import type { IdentificationUpload, UploadedImage } from "../identifications/identifications.input.ts";
import type { UploadDeps } from "./uploads.create.ts";
import { claimUploadRows, deleteUploadRows, releaseUploadRows, type UploadRow } from "./uploads.repo.ts";
import type { IdentifyFromUploads } from "./uploads.schemas.ts";

const FORMAT_OF_TYPE: Record<string, ImageFormat> = {
  "image/jpeg": "jpeg",
  "image/png": "png",
  "image/webp": "webp",
};

/** Verified upload bytes, in the order asked, and what to do with the uploads once the caller is done. */
export type ClaimedUploads = {
  images: UploadedImage[];
  /** The photos are stored (content-addressed, referenced): the upload objects and rows go. */
  finish(): Promise<void>;
  /** The identification failed for another reason (providers down, budget): the uploads may be used again. */
  release(): Promise<void>;
};

/**
 * Turns upload ids into verified photo bytes before anything else happens (no provider call, nothing stored):
 * each upload must be the caller's, unclaimed (422 `upload_unavailable`), received (409 `upload_incomplete`), of
 * the declared size (413 larger; 409 shorter), its content a JPEG/PNG/WebP of the declared type (415), its
 * SHA-256 the declared one (422), and decodable within the pixel limits (400: the multipart codes). A refused
 * upload is deleted at once, row and object (nothing of it is kept); the others of the request are released.
 */
export async function claimUploads(
  deps: UploadDeps,
  userId: string,
  uploadIds: readonly string[],
  /** The endpoint's multipart request limit: the photos are held in memory together, as a multipart body is. */
  maxTotalBytes: number,
): Promise<ClaimedUploads> {
  const db = deps.db.primary;
  const rows = await claimUploadRows(db, userId, uploadIds);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = uploadIds.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    await releaseUploadRows(
      db,
      rows.map((r) => r.id),
    );
    throw new AppError(
      "upload_unavailable",
      `Upload ${missing.join(", ")} is not yours, expired or was used.`,
      {
        errors: missing.map((id) => ({
          path: `json.uploadIds.${uploadIds.indexOf(id)}`,
          message: "not usable",
        })),
      },
    );
  }
  const ordered = uploadIds.map((id) => byId.get(id)!);
  const declared = ordered.reduce((sum, r) => sum + r.content_length, 0);
  if (declared > maxTotalBytes) {
    await releaseUploadRows(
      db,
      ordered.map((r) => r.id),
    );
    throw new AppError(
      "payload_too_large",
      `The photos of one request may be at most ${maxTotalBytes} bytes.`,
    );
  }
  const results = await Promise.allSettled(ordered.map((row) => verifyUpload(deps, row)));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    const all = ordered.map((r) => r.id);
    const broken = failures.find((err) => !(err instanceof AppError));
    if (broken) {
      // The store, not the upload: nothing is refused, the client retries.
      await releaseUploadRows(db, all);
      throw new AppError("service_unavailable", "The image store is not available; retry later.", {
        retryAfterSeconds: 5,
        cause: broken,
      });
    }
    const metrics = mediaFlowMetrics(deps.metrics.registry).uploadVerificationFailures;
    for (const err of failures as AppError[]) metrics.labels(err.code).inc();
    // Refused uploads go now; one not received yet stays usable (the client may still send it).
    const refused = ordered.filter((_, i) => {
      const r = results[i]!;
      return r.status === "rejected" && !notReceived.has(r.reason as object);
    });
    await removeUploads(deps, refused).catch((err: unknown) =>
      deps.logger.error({ err: String(err) }, "refused uploads not removed (the uploads sweep will)"),
    );
    await releaseUploadRows(
      db,
      all.filter((id) => !refused.some((r) => r.id === id)),
    );
    throw failures[0];
  }
  const images = results.map((r) => (r as PromiseFulfilledResult<UploadedImage>).value);
  return {
    images,
    finish: () =>
      removeUploads(deps, ordered).catch((err: unknown) => {
        // The photos are stored; what is left of the uploads goes with the sweep.
        deps.logger.error({ err: String(err) }, "claimed uploads not removed (the uploads sweep will)");
      }),
    release: () =>
      releaseUploadRows(
        db,
        ordered.map((r) => r.id),
      ),
  };
}

/** The photo pipeline's input from the JSON request and its claimed uploads (organs default to `auto`). */
export function uploadOfClaimed(input: IdentifyFromUploads, claimed: ClaimedUploads): IdentificationUpload {
  return {
    images: claimed.images,
    organs:
      input.organs && input.organs.length > 0 ? input.organs : input.uploadIds.map(() => "auto" as const),
    latitude: input.latitude,
    longitude: input.longitude,
    includeHealth: input.includeHealth ?? true,
  };
}

/** Objects first: a row left behind (the delete failed) keeps the object findable by the sweep. */
async function removeUploads(deps: UploadDeps, rows: readonly UploadRow[]): Promise<void> {
  await deps.storage.delete(rows.map((r) => r.storage_key));
  await deleteUploadRows(
    deps.db.primary,
    rows.map((r) => r.id),
  );
}

const refuse = (code: ErrorCode, detail: string) => new AppError(code, detail);
/** Failures of uploads whose object is not there yet: not the upload's fault, so it is kept. */
const notReceived = new WeakSet<object>();
/** Kept while its URL still accepts the bytes; once it expired, the object can never arrive: refused. */
const notReceivedYet = (name: string, row: UploadRow, nowMs: number) => {
  const err = refuse("upload_incomplete", `${name} has not been received; send it to its URL first.`);
  if (new Date(row.expires_at).getTime() > nowMs) notReceived.add(err);
  return err;
};

async function verifyUpload(deps: UploadDeps, row: UploadRow): Promise<UploadedImage> {
  const limits = deps.config.uploads;
  const name = `Upload ${row.id}`;
  // The size before the bytes: an object larger than declared is refused without reading it.
  const size = deps.storage.size ? await deps.storage.size(row.storage_key) : undefined;
  if (deps.storage.size && size === undefined) throw notReceivedYet(name, row, deps.clock.now());
  if (size !== undefined && size > row.content_length) {
    throw refuse("payload_too_large", `${name} is larger than the ${row.content_length} bytes declared.`);
  }
  const blob = await deps.storage.get(row.storage_key);
  if (!blob) throw notReceivedYet(name, row, deps.clock.now());
  const bytes =
    blob.body instanceof Uint8Array ? blob.body : new Uint8Array(await new Response(blob.body).arrayBuffer());
  if (bytes.byteLength > row.content_length || bytes.byteLength > limits.maxFileBytes) {
    throw refuse("payload_too_large", `${name} is larger than the ${row.content_length} bytes declared.`);
  }
  if (bytes.byteLength < row.content_length) {
    throw refuse("upload_incomplete", `${name} is shorter than the ${row.content_length} bytes declared.`);
  }
  const format = sniffImageFormat(bytes);
  if (!format || format !== FORMAT_OF_TYPE[row.content_type]) {
    throw refuse(
      "unsupported_media_type",
      `${name} is not a ${row.content_type} file (judged by its content, not its declared type).`,
    );
  }
  const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  if (row.sha256 && row.sha256 !== sha256) {
    throw refuse("upload_checksum_mismatch", `${name} does not match its declared SHA-256.`);
  }
  try {
    await readImageHeader(bytes, format, limits);
  } catch (err) {
    if (err instanceof ImageRejectedError) throw refuse(err.reason, `${name}: ${err.message}`);
    throw err;
  }
  return { bytes, sha256, format };
}
