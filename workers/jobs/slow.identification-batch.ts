import { publishLiveEvent } from "../../src/graphql/live-events.ts";
import {
  findBatchForJob,
  listBatchItems,
  setBatchStatus,
} from "../../src/modules/identification-batches/batches.repo.ts";
import { ProvidersUnavailableError } from "../../src/modules/identifications/identifications.jobs.ts";
import {
  failQueuedIdentification,
  processQueuedIdentification,
} from "../../src/modules/identifications/identifications.process.ts";
import { deliverNotification } from "../../src/modules/notifications/notifications.deliver.ts";
import { JobDeferred } from "../defer-job.ts";
import type { JobDefinition } from "../job-types.ts";

const DONE = new Set(["completed", "failed"]);

/**
 * slow lane: identifies a batch's photos one by one. Progress is each item's own status, so a redelivered or
 * retried batch (crash, drain, providers down) continues where it stopped. Providers being down fails the
 * whole attempt (retried later); any other problem fails only that photo.
 */
export const identificationBatch: JobDefinition<"identification.batch"> = {
  async run(deps, { batchId, userId }, ctx) {
    const db = deps.db.primary;
    const batch = await findBatchForJob(db, batchId);
    if (!batch || batch.deleted_at) return { skipped: true };
    if (batch.status !== "completed") await setBatchStatus(db, batchId, "processing");
    for (const item of await listBatchItems(db, batchId)) {
      ctx.signal.throwIfAborted();
      if (item.deleted || DONE.has(item.status)) continue;
      try {
        await processQueuedIdentification(deps, item.identificationId, ctx.signal);
      } catch (err) {
        // Open breakers: the batch waits for them without spending an attempt, then continues where it stopped.
        if (err instanceof ProvidersUnavailableError && err.breakerOpen) {
          throw new JobDeferred(
            err.retryAfterSeconds * 1000,
            "neither identification provider is available",
            {
              cause: err,
            },
          );
        }
        if (err instanceof ProvidersUnavailableError || ctx.signal.aborted) throw err;
        ctx.logger.warn({ identificationId: item.identificationId, err: String(err) }, "batch item failed");
        await failQueuedIdentification(deps, item.identificationId, err as Error);
      }
      // GraphQL's identificationUpdated: each photo of the batch is an identification of its own.
      await publishLiveEvent(deps, {
        kind: "identification",
        userId,
        identificationId: item.identificationId,
      });
    }
    const items = await listBatchItems(db, batchId);
    const completed = items.filter((i) => i.status === "completed").length;
    await setBatchStatus(db, batchId, "completed");
    await deliverNotification(deps, {
      userId,
      key: `batch.completed:${batchId}`,
      kind: "batch.completed",
      title: "Your batch of photos is identified",
      body: `${completed} of ${items.length} photos identified.`,
      data: { batchId, completed, total: items.length },
    });
    return { completed, total: items.length };
  },

  async onDeadLetter(deps, { batchId, userId }, error) {
    for (const item of await listBatchItems(deps.db.primary, batchId)) {
      if (!DONE.has(item.status)) {
        await failQueuedIdentification(deps, item.identificationId, error);
        await publishLiveEvent(deps, {
          kind: "identification",
          userId,
          identificationId: item.identificationId,
        });
      }
    }
    await setBatchStatus(deps.db.primary, batchId, "failed");
    await deliverNotification(deps, {
      userId,
      key: `batch.failed:${batchId}`,
      kind: "batch.failed",
      title: "Your batch of photos could not be finished",
      body: "Photos identified before the problem keep their results.",
      data: { batchId },
    });
  },
};
