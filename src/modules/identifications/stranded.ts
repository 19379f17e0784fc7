import type { Deps } from "../../deps.ts";
import { enqueue } from "../../infra/queues.ts";
import { findStrandedBatches, findStrandedIdentifications } from "./stranded.repo.ts";

/**
 * Accepting async work commits the row first and enqueues second; a process that dies between the two leaves
 * work that no job will ever pick up. This finds such rows and enqueues their job again under the same job id
 * the API used, so a job that is merely waiting in a long backlog is not doubled (the add is a no-op).
 */
export async function requeueStranded(
  deps: Pick<Deps, "db" | "queues" | "logger">,
  opts: { olderThanMs: number; limit: number },
): Promise<{ identifications: number; batches: number }> {
  const [identifications, batches] = await Promise.all([
    findStrandedIdentifications(deps.db.primary, opts.olderThanMs, opts.limit),
    findStrandedBatches(deps.db.primary, opts.olderThanMs, opts.limit),
  ]);
  for (const s of identifications) {
    await enqueue(
      deps,
      "identification.run",
      { identificationId: s.id, userId: s.userId },
      {
        groupId: `identification:${s.id}`,
        userRole: s.role,
        jobId: `identification.run:${s.id}`,
      },
    );
  }
  for (const s of batches) {
    await enqueue(
      deps,
      "identification.batch",
      { batchId: s.id, userId: s.userId },
      {
        groupId: `batch:${s.id}`,
        userRole: s.role,
        jobId: `identification.batch:${s.id}`,
      },
    );
  }
  if (identifications.length || batches.length) {
    deps.logger.warn(
      { identifications: identifications.map((s) => s.id), batches: batches.map((s) => s.id) },
      "re-enqueued stranded queued work",
    );
  }
  return { identifications: identifications.length, batches: batches.length };
}
