import type { Config } from "../../config/index.ts";
import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { enqueue } from "../../infra/queues.ts";
import { recordAudit } from "../audit/audit.record.ts";
import { photoGoneAsRetry } from "../identifications/identifications.create.ts";
import { discardUnqueued } from "../identifications/identifications.discard.ts";
import { identificationPath } from "../identifications/identifications.dto.ts";
import {
  checkIdentificationInput,
  type IdentificationInput,
  type IdentificationUpload,
} from "../identifications/identifications.input.ts";
import {
  type PreparedIdentification,
  prepareQueuedIdentification,
  type QueueCaller,
} from "../identifications/identifications.jobs.ts";
import { discardWrittenPhotos } from "../photos/index.ts";
import { claimUploads, type IdentifyFromUploads, uploadOfClaimed } from "../uploads/index.ts";
import { batchFairUse } from "./batches.fair-use.ts";
import {
  type BatchItemRow,
  type BatchRow,
  findBatch,
  insertBatch,
  listBatchItems,
  softDeleteBatch,
} from "./batches.repo.ts";
import type { Batch, BatchItem } from "./batches.schemas.ts";
import { insertQueuedIdentification } from "./queued-identifications.repo.ts";

const PREPARE_CONCURRENCY = 4;

export function batchPath(id: string): string {
  return `/v1/identification-batches/${id}`;
}

export function toBatchDto(
  batch: Pick<BatchRow, "id" | "status" | "created_at" | "completed_at">,
  rows: readonly BatchItemRow[],
): Batch {
  const items: BatchItem[] = rows.map((r) => ({
    position: r.position,
    identificationId: r.identificationId,
    status: r.deleted ? "deleted" : (r.status as BatchItem["status"]),
    ...(r.status === "failed" && r.failure && !r.deleted ? { failure: r.failure } : {}),
    links: { identification: identificationPath(r.identificationId) },
  }));
  const count = (s: BatchItem["status"]) => items.filter((i) => i.status === s).length;
  const pending = count("queued") + count("processing");
  return {
    id: batch.id,
    status: batch.status,
    total: items.length,
    progress: {
      completed: count("completed"),
      failed: count("failed"),
      pending,
      percent: items.length === 0 ? 100 : Math.floor((100 * (items.length - pending)) / items.length),
    },
    items,
    createdAt: batch.created_at.toISOString(),
    completedAt: batch.completed_at?.toISOString() ?? null,
    links: { self: batchPath(batch.id) },
  };
}

/** A batch takes more photos per request than one identification: its own count and size limits. */
export function batchUploadLimits(config: Pick<Config, "uploads" | "batches">): Config["uploads"] {
  return {
    ...config.uploads,
    maxImages: config.batches.maxImages,
    maxRequestBytes: config.batches.maxRequestBytes,
  };
}

type BatchDeps = Pick<
  Deps,
  "config" | "db" | "storage" | "queues" | "metrics" | "logger" | "clock" | "redis"
>;

export function createBatchesService(deps: BatchDeps) {
  const chargePhotos = batchFairUse(deps);
  async function prepareAll(upload: IdentificationUpload): Promise<PreparedIdentification[]> {
    // Stored photos are not referenced until the rows are written: a refusal removes what this request wrote
    // (best effort; the purge deletes unreferenced photos after their grace period).
    const prepared: PreparedIdentification[] = [];
    try {
      for (let i = 0; i < upload.images.length; i += PREPARE_CONCURRENCY) {
        const slice = upload.images.slice(i, i + PREPARE_CONCURRENCY);
        const done = await Promise.allSettled(
          slice.map((image, j) =>
            prepareQueuedIdentification(deps, [image], {
              ...upload,
              organs: [upload.organs[i + j] ?? "auto"],
            }),
          ),
        );
        for (const d of done) if (d.status === "fulfilled") prepared.push(d.value);
        const refused = done.find((d) => d.status === "rejected");
        if (refused) throw refused.reason;
      }
      return prepared;
    } catch (err) {
      await discardWrittenPhotos(
        deps,
        prepared.flatMap((p) => p.photos),
      );
      throw err;
    }
  }

  async function createFrom(caller: QueueCaller, upload: IdentificationUpload): Promise<Batch> {
    const prepared = await prepareAll(upload);
    const batchId = Bun.randomUUIDv7();
    const createdAt = new Date(deps.clock.now());
    try {
      await deps.db.primary.transaction().execute(async (trx) => {
        for (const p of prepared) {
          await insertQueuedIdentification(
            trx,
            { id: p.id, userId: caller.userId, createdAt, request: p.request },
            p.media,
          );
        }
        await insertBatch(trx, {
          id: batchId,
          userId: caller.userId,
          createdAt,
          identificationIds: prepared.map((p) => p.id),
        });
        await recordAudit(trx, caller.actor, {
          action: "identification_batch.create",
          entityType: "identification_batch",
          entityId: batchId,
          after: { images: prepared.length },
        });
      });
    } catch (err) {
      await discardWrittenPhotos(
        deps,
        prepared.flatMap((p) => p.photos),
      );
      throw photoGoneAsRetry(err);
    }
    await deps.db.markWrite(caller.clientKey);
    try {
      await enqueue(
        deps,
        "identification.batch",
        { batchId, userId: caller.userId },
        {
          groupId: `batch:${batchId}`,
          userRole: caller.role,
          traceparent: caller.traceparent,
          jobId: `identification.batch:${batchId}`,
        },
      );
    } catch (err) {
      deps.logger.error({ err: String(err), batchId }, "identification.batch not enqueued");
      // Answered 503: nothing of it may stay in the user's view (identifications.discard.ts).
      await discardUnqueued(deps, caller, prepared);
      await softDeleteBatch(deps.db.primary, batchId).catch((e: unknown) =>
        deps.logger.error({ err: String(e), batchId }, "unqueued batch not discarded"),
      );
      throw new AppError("service_unavailable", "Batches are not available right now.", {
        retryAfterSeconds: 5,
        cause: err,
      });
    }
    const items = prepared.map((p, position) => ({
      position,
      identificationId: p.id,
      status: "queued",
      failure: null,
      deleted: false,
    }));
    return toBatchDto({ id: batchId, status: "queued", created_at: createdAt, completed_at: null }, items);
  }

  return {
    /**
     * Validates and stores every photo, writes the queued rows and the batch together, then enqueues it. The
     * photos come as bytes, or as upload ids (POST /v1/uploads): each photo is charged against the limits first,
     * then the uploads are claimed and verified (the same checks; a refused upload is deleted) and removed once
     * their photos are stored.
     */
    async create(caller: QueueCaller, input: IdentificationInput | IdentifyFromUploads): Promise<Batch> {
      if (!("uploadIds" in input)) {
        const upload = checkIdentificationInput(input, batchUploadLimits(deps.config));
        await chargePhotos(caller, upload.images.length);
        return createFrom(caller, upload);
      }
      const max = deps.config.batches.maxImages;
      if (input.uploadIds.length > max) {
        throw new AppError("validation_failed", "One or more fields are invalid.", {
          errors: [{ path: "uploadIds", message: `at most ${max} uploads per batch` }],
        });
      }
      await chargePhotos(caller, input.uploadIds.length);
      const claimed = await claimUploads(
        deps,
        caller.userId,
        input.uploadIds,
        deps.config.batches.maxRequestBytes,
      );
      try {
        const batch = await createFrom(caller, uploadOfClaimed(input, claimed));
        await claimed.finish();
        return batch;
      } catch (err) {
        await claimed.release();
        throw err;
      }
    },

    async get(caller: { userId: string; clientKey: string }, id: string): Promise<Batch> {
      const found = await deps.db.read(caller.clientKey, async (db) => {
        const batch = await findBatch(db, caller.userId, id);
        return batch && { batch, items: await listBatchItems(db, id) };
      });
      if (!found) throw new AppError("not_found", "No batch with this id.");
      return toBatchDto(found.batch, found.items);
    },
  };
}

export type BatchesService = ReturnType<typeof createBatchesService>;
