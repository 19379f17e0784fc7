import { z } from "zod";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, encodeCursor } from "../../core/cursor.ts";
import type { Unlinked } from "../../core/page.ts";
import type { Deps } from "../../deps.ts";
import { identificationMetrics } from "../../infra/identification-metrics.ts";
import { allProvidersOpenFor } from "../../infra/providers/breakers.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { releaseMedia, sweepUnreferencedPhotos } from "../photos/index.ts";
import type { IdentifyFromUploads } from "../uploads/index.ts";
import { findLiveIdempotencyKey } from "./idempotency-keys.repo.ts";
import {
  type CreateContext,
  type CreateDeps,
  createIdentification,
  IdempotencyKeyTaken,
} from "./identifications.create.ts";
import { mediaUrls, resignImages } from "./identifications.dto.ts";
import { createFromUploads } from "./identifications.from-uploads.ts";
import { withIdempotencyLock } from "./identifications.idempotency.ts";
import {
  checkIdentificationInput,
  type IdentificationInput,
  type IdentificationUpload,
  uploadFingerprint,
} from "./identifications.input.ts";
import { acceptIdentification, identificationDtoOf, type QueueCaller } from "./identifications.jobs.ts";
import {
  findLiveIdentification,
  type IdentificationRow,
  listLiveIdentifications,
  listMediaOf,
  type MediaRow,
  softDeleteIdentification,
} from "./identifications.repo.ts";
import type {
  Identification,
  IdentificationListQuery,
  IdentificationPage,
} from "./identifications.schemas.ts";

/** Both breakers open: answer at once, before reading (and paying for) an upload nobody can identify now. */
function refuseWhenProvidersOpen(deps: Pick<Deps, "breakers" | "providers">) {
  const retryAfter = allProvidersOpenFor(deps.breakers, deps.providers.isConfigured);
  if (retryAfter === undefined) return;
  throw new AppError("providers_unavailable", "Neither identification provider is available right now.", {
    retryAfterSeconds: retryAfter,
  });
}

const CursorSchema = z.object({ c: z.string().datetime({ offset: true }), i: z.string().uuid() });
/** Longer than any identification can take (provider deadlines + storage), shorter than a client's patience. */
const IDEMPOTENCY_LOCK_MS = 60_000;

export type Caller = { userId: string; actor: AuditActor; clientKey: string };
export type Created = { identification: Identification; replayed: boolean };
export type CreateOptions = {
  /** A retry with the same key and the same input gets the stored answer (replayed: true). */
  idempotencyKey?: string;
  /** Set: `respond-async`, stored and queued now (answer `queued`), identified by a worker. */
  background?: QueueCaller;
};

export function createIdentificationsService(
  deps: CreateDeps & Pick<Deps, "redis" | "queues" | "metrics" | "breakers" | "providers">,
) {
  const urls = mediaUrls(deps);
  const dto = (row: IdentificationRow, media: MediaRow[]) => identificationDtoOf(row, media, urls);

  async function replay(caller: Caller, key: string, requestHash: string): Promise<Created | undefined> {
    const stored = await findLiveIdempotencyKey(deps.db.primary, caller.userId, key);
    if (!stored) return undefined;
    if (stored.requestHash !== requestHash) {
      throw new AppError(
        "idempotency_key_reused",
        "This Idempotency-Key was used with a different request; use a new key.",
      );
    }
    return { identification: resignImages(stored.body as Identification, deps), replayed: true };
  }

  /**
   * The answer stored under the key if there is one, else `work` run holding the key's lock (a concurrent
   * request with the same key gets a 409), unless the request that held it finished meanwhile.
   */
  async function underKey(
    caller: Caller,
    key: string,
    requestHash: string,
    work: () => Promise<Created>,
  ): Promise<Created> {
    const earlier = await replay(caller, key, requestHash);
    if (earlier) return earlier;
    const lock = {
      redis: deps.redis.cache,
      keyPrefix: deps.config.redis.keyPrefix,
      userId: caller.userId,
      key,
      ttlMs: IDEMPOTENCY_LOCK_MS,
      logger: deps.logger,
    };
    // A request holding the lock may have finished between our look-up and taking the lock.
    return withIdempotencyLock(lock, async () => (await replay(caller, key, requestHash)) ?? work());
  }

  /**
   * One identification from checked photos, whatever their source; idempotent with a key. `lockHeld`: the
   * caller runs it inside underKey already (identifications from uploads).
   */
  async function createFrom(
    caller: Caller,
    upload: IdentificationUpload,
    requestHash: string,
    options: CreateOptions,
    lockHeld = false,
  ): Promise<Created> {
    const { idempotencyKey, background } = options;
    // `Prefer: respond-async` (identifications.jobs.ts): stored and queued now, identified by a worker.
    const run = async (ctx: CreateContext) => {
      deps.metrics.identifications.inc();
      if (background) return acceptIdentification(deps, upload, background, ctx.idempotency);
      const started = performance.now();
      const identification = await createIdentification(deps, upload, ctx);
      deps.metrics.identificationsSuccess.inc();
      identificationMetrics(deps.metrics.registry).duration.observe(
        { mode: "sync" },
        (performance.now() - started) / 1000,
      );
      return identification;
    };
    if (!idempotencyKey) {
      const identification = await run(caller);
      await deps.db.markWrite(caller.clientKey);
      return { identification, replayed: false };
    }
    const locked = async (): Promise<Created> => {
      try {
        const identification = await run({ ...caller, idempotency: { key: idempotencyKey, requestHash } });
        await deps.db.markWrite(caller.clientKey);
        return { identification, replayed: false };
      } catch (err) {
        if (!(err instanceof IdempotencyKeyTaken)) throw err;
        const winner = await replay(caller, idempotencyKey, requestHash);
        if (!winner) throw err;
        return winner;
      }
    };
    return lockHeld ? locked() : underKey(caller, idempotencyKey, requestHash, locked);
  }

  return {
    /**
     * Throws providers_unavailable when both breakers are open and the caller wants an answer now: transports
     * call it before reading (and paying for) an upload nobody can identify now.
     */
    refuseWhenProvidersOpen(options: { queued?: boolean } = {}): void {
      if (!options.queued) refuseWhenProvidersOpen(deps);
    },

    /**
     * Checks, stores and identifies (or queues) the photos; see CreateOptions for idempotency and background.
     * The photos come as bytes (IdentificationInput) or as upload ids (POST /v1/uploads, fromUploads.ts).
     */
    async create(
      caller: Caller,
      input: IdentificationInput | IdentifyFromUploads,
      options: CreateOptions = {},
    ): Promise<Created> {
      if (!options.background) refuseWhenProvidersOpen(deps);
      if ("uploadIds" in input) {
        return createFromUploads(deps, { caller, input, options, underKey, createFrom });
      }
      const upload = checkIdentificationInput(input, deps.config.uploads);
      return createFrom(caller, upload, uploadFingerprint(upload), options);
    },

    async get(caller: Caller, id: string): Promise<Identification> {
      const found = await deps.db.read(caller.clientKey, async (db) => {
        const row = await findLiveIdentification(db, caller.userId, id);
        return row && { row, media: await listMediaOf(db, [row.id]) };
      });
      if (!found) throw new AppError("not_found", "No identification with this id.");
      return dto(found.row, found.media);
    },

    async list(caller: Caller, query: IdentificationListQuery): Promise<Unlinked<IdentificationPage>> {
      const after = query.cursor ? decodeCursor(query.cursor, CursorSchema) : undefined;
      const { rows, media } = await deps.db.read(caller.clientKey, async (db) => {
        const rows = await listLiveIdentifications(db, {
          userId: caller.userId,
          limit: query.limit + 1,
          after: after && { createdAt: after.c, id: after.i },
          from: query.from,
          to: query.to,
          minConfidence: query.minConfidence,
          speciesId: query.speciesId,
        });
        return {
          rows,
          media: await listMediaOf(
            db,
            rows.slice(0, query.limit).map((r) => r.id),
          ),
        };
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor =
        rows.length > query.limit && last
          ? encodeCursor({ c: last.created_at.toISOString(), i: last.id })
          : null;
      return {
        data: page.map((row) =>
          dto(
            row,
            media.filter((m) => m.identification_id === row.id),
          ),
        ),
        nextCursor,
      };
    },

    /**
     * Soft delete: the rows stay (marked), their images stop being served at once. Through our media route that
     * is the route's own check, and the photo references are released by the retention purge. Served straight
     * from a bucket or CDN, the references are released now and the photos nobody else shows are deleted.
     */
    async remove(caller: Caller, id: string): Promise<void> {
      const direct = Boolean(deps.config.storage.publicBaseUrl);
      const result = await deps.db.primary.transaction().execute(async (trx) => {
        const mediaIds = await softDeleteIdentification(trx, caller.userId, id);
        if (!mediaIds) return undefined;
        await recordAudit(trx, caller.actor, {
          action: "identification.delete",
          entityType: "identification",
          entityId: id,
        });
        return { unreferenced: direct ? await releaseMedia(trx, mediaIds) : [] };
      });
      if (!result) throw new AppError("not_found", "No identification with this id.");
      await deps.db.markWrite(caller.clientKey);
      if (result.unreferenced.length === 0) return;
      const keys = result.unreferenced;
      await sweepUnreferencedPhotos(deps, { graceSeconds: 0, limit: keys.length, keys }).catch((err) => {
        // The purge's sweep deletes them after the grace period.
        deps.logger.error({ err: String(err), keys }, "images of a deleted identification were not removed");
      });
    },
  };
}

export type IdentificationsService = ReturnType<typeof createIdentificationsService>;
