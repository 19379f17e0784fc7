import type { Deps } from "../../deps.ts";
import { ApiError } from "../../http/errors.ts";
import {
  encodeForProviders,
  encodeForStorage,
  ImageRejectedError,
  readImageHeader,
} from "../../infra/images/image-pipeline.ts";
import { unavailableRetryAfter } from "../../infra/providers/identify.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { observeIdentification } from "../models/experiment-observe.ts";
import { assignIdentification } from "../models/experiment-plan.ts";
import { recordModelCalls, recordShadowsLater } from "../models/model-calls.ts";
import { deleteExpiredIdempotencyKeys, saveIdempotencyKey } from "./idempotency-keys.repo.ts";
import { toIdentificationDto } from "./identifications.dto.ts";
import { findSpeciesIdsByName, insertIdentification, type NewMedia } from "./identifications.repo.ts";
import { buildResult, mergedSuggestions } from "./identifications.result.ts";
import type { Identification } from "./identifications.schemas.ts";
import type { IdentificationUpload } from "./identifications.upload.ts";

export type CreateDeps = Pick<
  Deps,
  "config" | "db" | "storage" | "providers" | "logger" | "clock" | "metrics"
>;
export type CreateContext = {
  userId: string;
  actor: AuditActor;
  clientKey: string;
  idempotency?: { key: string; requestHash: string };
};

/** Thrown inside the transaction when another request stored a response under the same key first. */
export class IdempotencyKeyTaken extends Error {}

const STORAGE_RETRY_AFTER_SECONDS = "5";

function rejection(err: unknown): unknown {
  if (err instanceof ImageRejectedError) return new ApiError(err.reason, err.message);
  return err;
}

/**
 * Validates and encodes the images, asks the providers (through cache, quota and breaker) while the encoded
 * copies are stored, then writes the rows in one transaction. Any failure removes what was stored; a failure
 * inside the transaction rolls the rows back.
 */
export async function createIdentification(
  deps: CreateDeps,
  upload: IdentificationUpload,
  ctx: CreateContext,
): Promise<Identification> {
  const limits = deps.config.uploads;
  try {
    await Promise.all(upload.images.map((img) => readImageHeader(img.bytes, img.format, limits)));
  } catch (err) {
    throw rejection(err);
  }

  const id = Bun.randomUUIDv7();
  // The owner's experiment variant decides which models answer (models module); none: the default providers.
  const assignment = await assignIdentification(deps.db.primary, ctx.userId);
  const keys = upload.images.map(() => {
    const mediaId = Bun.randomUUIDv7();
    return {
      mediaId,
      stored: `identifications/${id}/${mediaId}.jpg`,
      thumbnail: `identifications/${id}/${mediaId}.thumb.jpg`,
    };
  });
  // The providers' copies come first: on a cache miss the calls start while the stored copies are encoded; on a
  // hit no provider copy is made at all. Either way an image that does not decode never reaches a provider.
  let startStorage = () => {};
  const storageMayStart = new Promise<void>((resolve) => {
    startStorage = resolve;
  });
  let providerImages: Promise<Uint8Array[]> | undefined;
  const outcomePromise = deps.providers.identifier.identify(
    {
      imageHashes: upload.images.map((img) => img.sha256),
      providerImages: () => {
        providerImages ??= Promise.all(upload.images.map((img) => encodeForProviders(img.bytes, limits)));
        providerImages.then(startStorage, () => {});
        return providerImages;
      },
      organs: upload.organs,
      latitude: upload.latitude,
      longitude: upload.longitude,
      includeHealth: upload.includeHealth,
    },
    assignment.plan,
  );
  outcomePromise.then(startStorage, startStorage);
  const encoded = storageMayStart.then(() =>
    Promise.all(upload.images.map((img) => encodeForStorage(img.bytes, limits))),
  );

  const written: string[] = [];
  const storedPromise = encoded.then(async (list) => {
    const puts = list.flatMap(
      (e, i) =>
        [
          [keys[i]!.stored, e.stored.bytes],
          [keys[i]!.thumbnail, e.thumbnail.bytes],
        ] as const,
    );
    const results = await Promise.allSettled(
      puts.map(([key, bytes]) => {
        written.push(key);
        return deps.storage.put(key, bytes, "image/jpeg");
      }),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed)
      throw new ApiError("service_unavailable", "The image store is not available.", {
        headers: { "Retry-After": STORAGE_RETRY_AFTER_SECONDS },
        cause: failed.reason,
      });
    return list;
  });

  const [outcomeResult, storedResult] = await Promise.allSettled([outcomePromise, storedPromise]);
  try {
    if (storedResult.status === "rejected" && storedResult.reason instanceof ImageRejectedError)
      throw storedResult.reason;
    if (outcomeResult.status === "rejected") throw outcomeResult.reason;
    if (storedResult.status === "rejected") throw storedResult.reason;
    const outcome = outcomeResult.value;
    const retryAfter = unavailableRetryAfter(outcome);
    if (retryAfter !== undefined) {
      throw new ApiError(
        "providers_unavailable",
        "Neither identification provider is available; retry later.",
        {
          headers: { "Retry-After": String(retryAfter) },
        },
      );
    }
    const merged = mergedSuggestions(outcome, assignment.merge);
    const speciesIds = await deps.db.read(ctx.clientKey, (db) =>
      findSpeciesIdsByName(
        db,
        merged.map((s) => s.scientificName),
      ),
    );
    const result = buildResult(outcome, merged, speciesIds);
    const media: NewMedia[] = storedResult.value.map((e, position) => ({
      id: keys[position]!.mediaId,
      position,
      storageKey: keys[position]!.stored,
      thumbnailKey: keys[position]!.thumbnail,
      byteSize: e.stored.bytes.byteLength,
      width: e.stored.width,
      height: e.stored.height,
      sha256: upload.images[position]!.sha256,
    }));
    // Millisecond precision, so the history cursor (an ISO string) compares exactly with the column.
    const createdAt = new Date(deps.clock.now());
    const dto = toIdentificationDto({ id, createdAt, result }, media, deps.storage);
    await deps.db.primary.transaction().execute(async (trx) => {
      await insertIdentification(
        trx,
        {
          id,
          userId: ctx.userId,
          createdAt,
          isPlant: result.isPlant,
          confidence: result.confidence,
          topSpeciesId: result.suggestions[0]?.speciesId ?? null,
          modelVersion: result.modelVersion,
          request: {
            organs: upload.organs,
            latitude: upload.latitude ?? null,
            longitude: upload.longitude ?? null,
            includeHealth: upload.includeHealth,
          },
          result,
          experimentId: assignment.experimentId,
          variant: assignment.variant,
        },
        media,
      );
      await recordModelCalls(trx, id, outcome.calls);
      await recordAudit(trx, ctx.actor, {
        action: "identification.create",
        entityType: "identification",
        entityId: id,
        after: {
          images: media.length,
          topSpeciesId: result.suggestions[0]?.speciesId ?? null,
          confidence: result.confidence,
        },
      });
      if (ctx.idempotency) {
        await deleteExpiredIdempotencyKeys(trx, ctx.userId);
        const saved = await saveIdempotencyKey(trx, {
          userId: ctx.userId,
          key: ctx.idempotency.key,
          operation: "identifications.create",
          ttlSeconds: deps.config.idempotencyTtlSeconds,
          requestHash: ctx.idempotency.requestHash,
          status: 201,
          body: dto,
          resourceId: id,
        });
        if (!saved) throw new IdempotencyKeyTaken();
      }
    });
    observeIdentification(deps.metrics, assignment, outcome.calls, result.confidence);
    void recordShadowsLater(
      { db: deps.db.primary, logger: deps.logger, metrics: deps.metrics },
      id,
      outcome.shadows,
      assignment.variant,
    );
    return dto;
  } catch (err) {
    await removeBlobs(deps, written);
    throw rejection(err);
  }
}

async function removeBlobs(deps: CreateDeps, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  try {
    await deps.storage.delete(keys);
  } catch (err) {
    // Logged with the keys for an operator; the user's request must still get its real error.
    deps.logger.error(
      { err: String(err), keys },
      "stored images of a failed identification were not removed",
    );
  }
}
