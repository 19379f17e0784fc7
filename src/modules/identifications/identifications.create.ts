import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import {
  type DecodedPhoto,
  decodePhoto,
  encodeDecodedForProviders,
  ImageRejectedError,
  readImageHeader,
} from "../../infra/images/image-pipeline.ts";
import { unavailableRetryAfter } from "../../infra/providers/identify-contract.ts";
import { type AuditActor, auditInsert } from "../audit/audit.record.ts";
import { observeIdentification } from "../models/experiment-observe.ts";
import { assignIdentification } from "../models/experiment-plan.ts";
import { modelCallRows, modelCallsInsert, recordShadowsLater } from "../models/model-calls.ts";
import {
  discardWrittenPhotos,
  findStoredPhoto,
  PhotoGoneError,
  type StoredPhoto,
  storeNewPhoto,
} from "../photos/index.ts";
import { deleteExpiredIdempotencyKeys, saveIdempotencyKey } from "./idempotency-keys.repo.ts";
import { mediaUrls, toIdentificationDto } from "./identifications.dto.ts";
import type { IdentificationUpload } from "./identifications.input.ts";
import { findSpeciesIdsByName, insertIdentification, type NewMedia } from "./identifications.repo.ts";
import { buildResult, mergedSuggestions } from "./identifications.result.ts";
import type { Identification } from "./identifications.schemas.ts";

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

function rejection(err: unknown): unknown {
  if (err instanceof ImageRejectedError) return new AppError(err.reason, err.message);
  return photoGoneAsRetry(err);
}

/** A stored photo swept between storing and referencing it (photos/index.ts): nothing was written, retry. */
export function photoGoneAsRetry(err: unknown): unknown {
  if (!(err instanceof PhotoGoneError)) return err;
  return new AppError("service_unavailable", "A stored photo changed meanwhile; retry the request.", {
    retryAfterSeconds: 1,
    cause: err,
  });
}

/**
 * Validates the images, asks the providers (through cache, quota and breaker; waiting at most
 * IDENTIFY_SYNC_WAIT_MS) while the photos are stored (content-addressed: photos already stored from the same
 * upload bytes are neither decoded nor written again), then writes the rows, with their photo references, in
 * one transaction. A failure leaves at most unreferenced photos, which media.purge deletes after their grace.
 */
export async function createIdentification(
  deps: CreateDeps,
  upload: IdentificationUpload,
  ctx: CreateContext,
): Promise<Identification> {
  const limits = deps.config.uploads;
  // The owner's experiment variant decides which models answer (models module); none: the default providers.
  // Looked up while the headers are read (a refused image only wasted a read).
  const assigning = assignIdentification(deps.db.primary, ctx.userId);
  assigning.catch(() => {});
  try {
    await Promise.all(upload.images.map((img) => readImageHeader(img.bytes, img.format, limits)));
  } catch (err) {
    throw rejection(err);
  }

  const id = Bun.randomUUIDv7();
  const assignment = await assigning;
  // The provider calls come first: on a cache miss the photos are encoded for storage only once every call has
  // been sent (before, the storage encode shared the core with the providers' copies and the call set-up, and
  // the calls left tens of ms later); on a hit no provider copy is made at all. Either way an image that does not
  // decode never reaches a provider.
  let startStorage = () => {};
  const storageMayStart = new Promise<void>((resolve) => {
    startStorage = resolve;
  });
  // Each photo is decoded once: the providers' copy, the stored copy and the thumbnail are made from the same
  // pixels (only when a provider is really called; otherwise storing decodes by itself).
  let decoded: Promise<DecodedPhoto>[] | undefined;
  let providerImages: Promise<Uint8Array[]> | undefined;
  const outcomePromise = deps.providers.identifier.identify(
    {
      imageHashes: upload.images.map((img) => img.sha256),
      providerImages: () => {
        decoded ??= upload.images.map((img) => decodePhoto(img.bytes, limits));
        const pixels = decoded;
        providerImages ??= Promise.all(pixels.map(async (d) => encodeDecodedForProviders(await d)));
        return providerImages;
      },
      onDispatched: startStorage,
      organs: upload.organs,
      latitude: upload.latitude,
      longitude: upload.longitude,
      includeHealth: upload.includeHealth,
      waitMs: deps.config.identifySyncWaitMs,
    },
    assignment.plan,
  );
  outcomePromise.then(startStorage, startStorage);
  const photoResults = Promise.allSettled(
    upload.images.map(
      async (img, i) =>
        (await findStoredPhoto(deps, img.sha256)) ??
        (await storageMayStart.then(() => storeNewPhoto(deps, { ...img, decoded: decoded?.[i] }))),
    ),
  );
  const photosPromise = photoResults.then((results) => {
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<StoredPhoto>).value);
  });

  const [outcomeResult, photosResult] = await Promise.allSettled([outcomePromise, photosPromise]);
  try {
    if (photosResult.status === "rejected" && photosResult.reason instanceof ImageRejectedError)
      throw photosResult.reason;
    if (outcomeResult.status === "rejected") throw outcomeResult.reason;
    if (photosResult.status === "rejected") throw photosResult.reason;
    const outcome = outcomeResult.value;
    const retryAfter = unavailableRetryAfter(outcome);
    if (retryAfter !== undefined) {
      throw new AppError(
        "providers_unavailable",
        "Neither identification provider is available; retry later.",
        {
          retryAfterSeconds: retryAfter,
        },
      );
    }
    const merged = mergedSuggestions(outcome, assignment.merge);
    // Both reads side by side, before the transaction: it then only writes.
    const [speciesIds, modelCalls] = await Promise.all([
      deps.db.read(ctx.clientKey, (db) =>
        findSpeciesIdsByName(
          db,
          merged.map((s) => s.scientificName),
        ),
      ),
      modelCallRows(deps.db.primary, id, outcome.calls),
    ]);
    const result = buildResult(outcome, merged, speciesIds);
    const media: NewMedia[] = photosResult.value.map((p, position) => ({
      id: Bun.randomUUIDv7(),
      position,
      storageKey: p.storageKey,
      thumbnailKey: p.thumbnailKey,
      byteSize: p.byteSize,
      width: p.width,
      height: p.height,
      sha256: upload.images[position]!.sha256,
    }));
    // Millisecond precision, so the history cursor (an ISO string) compares exactly with the column.
    const createdAt = new Date(deps.clock.now());
    const dto = toIdentificationDto({ id, createdAt, result }, media, mediaUrls(deps));
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
        // Sent with the identification's own rows: one statement instead of three more round trips.
        [
          modelCallsInsert(trx, modelCalls),
          auditInsert(trx, ctx.actor, {
            action: "identification.create",
            entityType: "identification",
            entityId: id,
            after: {
              images: media.length,
              topSpeciesId: result.suggestions[0]?.speciesId ?? null,
              confidence: result.confidence,
            },
          }).insert,
        ],
      );
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
    const written = (await photoResults).map((r) => (r.status === "fulfilled" ? r.value : undefined));
    await discardWrittenPhotos(deps, written);
    throw rejection(err);
  }
}
