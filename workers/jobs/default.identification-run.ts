import { publishLiveEvent } from "../../src/graphql/live-events.ts";
import { ProvidersUnavailableError } from "../../src/modules/identifications/identifications.jobs.ts";
import {
  failQueuedIdentification,
  processQueuedIdentification,
} from "../../src/modules/identifications/identifications.process.ts";
import { deliverNotification } from "../../src/modules/notifications/notifications.deliver.ts";
import { JobDeferred } from "../defer-job.ts";
import type { JobDefinition } from "../job-types.ts";

/**
 * default lane (priority for premium users): identifies a queued identification, then tells its owner.
 * The in-app notification is written by this job itself, not by a notification.send job it enqueues: a job
 * acknowledged by a Redis master that died before replicating it would lose the notification for good (issue
 * 10's Sentinel drill), while this row is in PostgreSQL. Every delivery that finds the identification completed
 * writes it again, and its key makes the second write a no-op; the e-mail copy still goes through the fast lane.
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
    // GraphQL's identificationUpdated, on whichever API instance its subscriber is connected to.
    await publishLiveEvent(deps, { kind: "identification", userId, identificationId });
    await deliverNotification(deps, {
      userId,
      key: `identification.completed:${identificationId}`,
      kind: "identification.completed",
      title: "Your identification is ready",
      body: outcome.scientificName
        ? `Best match: ${outcome.scientificName}.`
        : "No species matched your photos.",
      data: { identificationId, speciesId: outcome.topSpeciesId },
    });
    return outcome;
  },

  async onDeadLetter(deps, { identificationId, userId }, error) {
    if (!(await failQueuedIdentification(deps, identificationId, error))) return;
    await publishLiveEvent(deps, { kind: "identification", userId, identificationId });
    await deliverNotification(deps, {
      userId,
      key: `identification.failed:${identificationId}`,
      kind: "identification.failed",
      title: "Your identification could not be completed",
      body: "Please try again later.",
      data: { identificationId },
    });
  },
};
