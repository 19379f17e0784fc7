/**
 * Background identification (issue 6): the `Prefer: respond-async` path of POST /v1/identifications and the
 * batches store the photos and a `queued` row, and a worker asks the providers later. Reuses this module's
 * pipeline (validation, encoding, provider call, merge); only the split in time is new.
 */
import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import type { Role } from "../../http/scopes.ts";
import { ImageRejectedError, readImageHeader } from "../../infra/images/image-pipeline.ts";
import { enqueue } from "../../infra/queues.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import {
  type IdentificationRequest,
  insertQueuedIdentification,
  type QueuedIdentificationRow as QueuedRow,
} from "../identification-batches/queued-identifications.repo.ts";
import { discardWrittenPhotos, type PhotoStoreDeps, type StoredPhoto, storePhoto } from "../photos/index.ts";
import { deleteExpiredIdempotencyKeys, saveIdempotencyKey } from "./idempotency-keys.repo.ts";
import { IdempotencyKeyTaken, photoGoneAsRetry } from "./identifications.create.ts";
import { discardUnqueued } from "./identifications.discard.ts";
import {
  identificationPath,
  type MediaUrls,
  type MediaView,
  mediaUrls,
  toIdentificationDto,
} from "./identifications.dto.ts";
import type { IdentificationUpload, UploadedImage } from "./identifications.input.ts";
import type { IdentificationRow, MediaRow, NewMedia } from "./identifications.repo.ts";
import type { IdentificationResult } from "./identifications.result.ts";
import type { Identification } from "./identifications.schemas.ts";

export type QueueCaller = {
  userId: string;
  role: Role;
  actor: AuditActor;
  clientKey: string;
  traceparent?: string;
};
type AcceptDeps = Pick<Deps, "config" | "db" | "storage" | "queues" | "metrics" | "logger" | "clock">;
export type JobDeps = AcceptDeps & Pick<Deps, "providers" | "breakers">;

export type PendingStatus = "queued" | "processing" | "failed";

/**
 * Neither provider could answer: worth another run later. With `breakerOpen` (a breaker refused the call) the
 * job waits for the breaker's retry time without spending an attempt; otherwise the lane's backoff applies.
 */
export class ProvidersUnavailableError extends Error {
  override readonly name = "ProvidersUnavailableError";
  constructor(
    readonly retryAfterSeconds: number,
    readonly breakerOpen = false,
  ) {
    super(`neither identification provider is available (retry after ${retryAfterSeconds} s)`);
  }
}

export type PreparedIdentification = {
  id: string;
  request: IdentificationRequest;
  media: NewMedia[];
  /** What storing wrote: a request that fails before its rows are written removes what it wrote itself. */
  photos: StoredPhoto[];
};

/**
 * Validates and stores one identification's photos (content-addressed, photos/index.ts): nothing is referenced
 * until the rows are inserted, so a failure here or later leaves only unreferenced photos, which media.purge
 * deletes after the grace period.
 */
export async function prepareQueuedIdentification(
  deps: PhotoStoreDeps & Pick<Deps, "logger">,
  images: readonly UploadedImage[],
  fields: Omit<IdentificationUpload, "images">,
): Promise<PreparedIdentification> {
  const limits = deps.config.uploads;
  const id = Bun.randomUUIDv7();
  let stored: PromiseSettledResult<StoredPhoto>[] = [];
  try {
    await Promise.all(images.map((img) => readImageHeader(img.bytes, img.format, limits)));
    stored = await Promise.allSettled(images.map((img) => storePhoto(deps, img)));
    const refused = stored.find((r) => r.status === "rejected");
    if (refused) throw refused.reason;
    const photos = stored.map((r) => (r as PromiseFulfilledResult<StoredPhoto>).value);
    const media = photos.map(
      (p, position): NewMedia => ({
        id: Bun.randomUUIDv7(),
        position,
        storageKey: p.storageKey,
        thumbnailKey: p.thumbnailKey,
        byteSize: p.byteSize,
        width: p.width,
        height: p.height,
        sha256: images[position]!.sha256,
      }),
    );
    const request = {
      organs: fields.organs,
      latitude: fields.latitude ?? null,
      longitude: fields.longitude ?? null,
      includeHealth: fields.includeHealth,
    };
    return { id, request, media, photos };
  } catch (err) {
    await discardWrittenPhotos(
      deps,
      stored.map((r) => (r.status === "fulfilled" ? r.value : undefined)),
    );
    if (err instanceof ImageRejectedError) throw new AppError(err.reason, err.message);
    if (err instanceof AppError) throw err;
    throw new AppError("service_unavailable", "The image store is not available.", {
      retryAfterSeconds: 5,
      cause: err,
    });
  }
}

/**
 * `Prefer: respond-async`: photos stored, row `queued`, identification.run enqueued (premium -> priority lane).
 * With an Idempotency-Key the 202 answer is stored with the row, as the synchronous path stores its 201.
 */
export async function acceptIdentification(
  deps: AcceptDeps,
  upload: IdentificationUpload,
  caller: QueueCaller,
  idempotency?: { key: string; requestHash: string },
): Promise<Identification> {
  const { images, ...fields } = upload;
  const prepared = await prepareQueuedIdentification(deps, images, fields);
  const createdAt = new Date(deps.clock.now());
  const dto = pendingIdentificationDto(
    { id: prepared.id, createdAt, status: "queued", failure: null },
    viewsOf(prepared.media),
    mediaUrls(deps),
  );
  try {
    await deps.db.primary.transaction().execute(async (trx) => {
      await insertQueuedIdentification(
        trx,
        { id: prepared.id, userId: caller.userId, createdAt, request: prepared.request },
        prepared.media,
      );
      await recordAudit(trx, caller.actor, {
        action: "identification.create",
        entityType: "identification",
        entityId: prepared.id,
        after: { images: prepared.media.length, mode: "async" },
      });
      if (idempotency) {
        await deleteExpiredIdempotencyKeys(trx, caller.userId);
        const saved = await saveIdempotencyKey(trx, {
          userId: caller.userId,
          key: idempotency.key,
          operation: "identifications.create",
          ttlSeconds: deps.config.idempotencyTtlSeconds,
          requestHash: idempotency.requestHash,
          status: 202,
          body: dto,
          resourceId: prepared.id,
        });
        if (!saved) throw new IdempotencyKeyTaken();
      }
    });
  } catch (err) {
    await discardWrittenPhotos(deps, prepared.photos);
    throw photoGoneAsRetry(err);
  }
  await deps.db.markWrite(caller.clientKey);
  try {
    await enqueue(
      deps,
      "identification.run",
      { identificationId: prepared.id, userId: caller.userId },
      {
        // Its own group: identifications need no order, and a user's second one must not wait behind the first.
        groupId: `identification:${prepared.id}`,
        userRole: caller.role,
        traceparent: caller.traceparent,
        jobId: `identification.run:${prepared.id}`,
      },
    );
  } catch (err) {
    deps.logger.error({ err: String(err), identificationId: prepared.id }, "identification.run not enqueued");
    await discardUnqueued(deps, caller, [prepared], idempotency?.key);
    throw new AppError("service_unavailable", "Background identification is not available right now.", {
      retryAfterSeconds: 5,
      cause: err,
    });
  }
  return dto;
}

function viewsOf(media: readonly NewMedia[]): MediaView[] {
  return media.map((m) => ({
    id: m.id,
    position: m.position,
    storageKey: m.storageKey,
    thumbnailKey: m.thumbnailKey,
    width: m.width,
    height: m.height,
  }));
}

/** An identification whose providers have not answered (yet, or ever): no suggestions, no provider reports. */
export function pendingIdentificationDto(
  row: {
    id: string;
    createdAt: Date;
    status: PendingStatus;
    failure: { code: string; message: string } | null;
  },
  media: readonly MediaView[],
  urls: MediaUrls,
): Identification {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    images: [...media]
      .sort((a, b) => a.position - b.position)
      .map((m) => ({
        ...urls(row.id, m),
        width: m.width,
        height: m.height,
      })),
    isPlant: null,
    confidence: null,
    suggestions: [],
    providers: {
      plantId: { status: "pending", cached: false },
      plantnet: { status: "pending", cached: false },
    },
    modelVersion: null,
    ...(row.status === "failed" && row.failure ? { failure: row.failure } : {}),
    links: { self: identificationPath(row.id) },
  };
}

/** The DTO of a stored row that is not completed (yet). */
export function pendingDtoOf(row: QueuedRow, media: readonly MediaRow[], urls: MediaUrls): Identification {
  return pendingIdentificationDto(
    { id: row.id, createdAt: row.created_at, status: row.status as PendingStatus, failure: row.failure },
    media.map(mediaViewOf),
    urls,
  );
}

/** A stored identification (its row and media) as every transport shows it: pending, failed or completed. */
export function identificationDtoOf(
  row: IdentificationRow,
  media: readonly MediaRow[],
  urls: MediaUrls,
): Identification {
  if (row.status !== "completed") return pendingDtoOf(row, media, urls);
  return toIdentificationDto(
    { id: row.id, createdAt: row.created_at, result: row.result as IdentificationResult },
    media.map(mediaViewOf),
    urls,
  );
}

/** A media row as the DTOs address it (identification + media id; the keys stay server-side). */
function mediaViewOf(m: MediaRow): MediaView {
  return {
    id: m.id,
    position: m.position,
    storageKey: m.storage_key,
    thumbnailKey: m.thumbnail_key,
    width: m.width,
    height: m.height,
  };
}
