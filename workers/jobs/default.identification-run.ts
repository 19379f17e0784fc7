import { enqueue } from "../../src/infra/queues.ts";
import { ProvidersUnavailableError } from "../../src/modules/identifications/identifications.jobs.ts";
import {
  failQueuedIdentification,
  processQueuedIdentification,
} from "../../src/modules/identifications/identifications.process.ts";
import { JobDeferred } from "../defer-job.ts";
import type { JobDefinition } from "../job-types.ts";

/**
 * default lane (priority for premium users): identifies a queued identification, then tells its owner.
 * The notification is enqueued on every delivery that finds it completed: a crash between the two steps must
 * not lose it, and its key makes the second one a no-op.
 */
export const identificationRun: JobDefinition<"identification.run"> = {
  async run(deps, { identificationId, userId }, ctx) {
    const outcome = await processQueuedIdentification(deps, identificationId, ctx.signal).catch(
      (err: unknown) => {
        // Open breakers say when to come back: wait until then without spending an attempt (issue 10).
        if (err instanceof ProvidersUnavailableError && err.breakerOpen) {
          throw new JobDeferred(
            err.retryAfterSeconds * 1000,
            "neither identification provider is available",
            {
              cause: err,
            },
          );
        }
        throw err;
      },
    );
    if (outcome.status !== "completed") {
      ctx.logger.info({ identificationId, reason: outcome.reason }, "identification skipped");
      return outcome;
    }
    await enqueue(
      deps,
      "notification.send",
      {
        userId,
        key: `identification.completed:${identificationId}`,
        kind: "identification.completed",
        title: "Your identification is ready",
        body: outcome.scientificName
          ? `Best match: ${outcome.scientificName}.`
          : "No species matched your photos.",
        data: { identificationId, speciesId: outcome.topSpeciesId },
      },
      { groupId: `user:${userId}`, traceparent: ctx.traceparent },
    );
    return outcome;
  },

  async onDeadLetter(deps, { identificationId, userId }, error) {
    if (!(await failQueuedIdentification(deps, identificationId, error))) return;
    await enqueue(
      deps,
      "notification.send",
      {
        userId,
        key: `identification.failed:${identificationId}`,
        kind: "identification.failed",
        title: "Your identification could not be completed",
        body: "Please try again later.",
        data: { identificationId },
      },
      { groupId: `user:${userId}` },
    );
  },
};
