import type { Deps } from "../../deps.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { failIdentification } from "../identification-batches/queued-identifications.repo.ts";
import { releaseMedia, sweepUnreferencedPhotos } from "../photos/index.ts";
import { deleteIdempotencyKey } from "./idempotency-keys.repo.ts";
import { softDeleteIdentification } from "./identifications.repo.ts";

/**
 * Undoes accepted background work whose job could not be queued, before the request is answered 503: a 503
 * means "nothing happened, try again", so nothing may show in the user's history (issue 10). The rows stay,
 * failed and soft-deleted, for the audit trail; their photo references are released (the purge deletes photos
 * nobody else references); a stored Idempotency-Key answer goes too, so a
 * retry with the same key is a new attempt instead of a replay of a 202 for work that was dropped. A job that
 * reaches the lane late anyway finds its identification deleted and skips it.
 */
export async function discardUnqueued(
  deps: Pick<Deps, "db" | "storage" | "logger">,
  caller: { userId: string; actor: AuditActor },
  prepared: readonly { id: string }[],
  idempotencyKey?: string,
): Promise<void> {
  const failure = { code: "queue_unavailable", message: "The job queue was not available." };
  let unreferenced: string[] = [];
  try {
    await deps.db.primary.transaction().execute(async (trx) => {
      for (const p of prepared) {
        await failIdentification(trx, p.id, failure);
        const mediaIds = (await softDeleteIdentification(trx, caller.userId, p.id)) ?? [];
        unreferenced = [...unreferenced, ...(await releaseMedia(trx, mediaIds))];
        await recordAudit(trx, caller.actor, {
          action: "identification.delete",
          entityType: "identification",
          entityId: p.id,
          after: { reason: failure.code },
        });
      }
      if (idempotencyKey) await deleteIdempotencyKey(trx, caller.userId, idempotencyKey);
    });
  } catch (err) {
    // The rows stay queued; the stranded-work sweeper will run them once the queue is back.
    deps.logger.error(
      { err: String(err), identifications: prepared.map((p) => p.id) },
      "unqueued identifications not discarded",
    );
    return;
  }
  if (unreferenced.length === 0) return;
  await sweepUnreferencedPhotos(deps, {
    graceSeconds: 0,
    limit: unreferenced.length,
    keys: unreferenced,
  }).catch((err: unknown) =>
    deps.logger.error({ err: String(err) }, "photos of unqueued identifications not removed"),
  );
}
