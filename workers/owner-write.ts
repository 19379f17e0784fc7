import type { WorkerDeps } from "./job-types.ts";

/**
 * Work done for a user is that user's write: their next reads must see it (an identification completed, a
 * notification), as if they had written it themselves (read-your-writes, src/db/read-routing.ts). Every job
 * payload that concerns a user names it as `userId`. The lane does not wait for it: the job's rows are visible
 * on the primary before the marker lands either way, and a job must not hold its lease for it. Never throws.
 */
export async function markOwnersWrite(deps: WorkerDeps, payload: unknown): Promise<void> {
  const userId = (payload as { userId?: unknown } | null)?.userId;
  if (typeof userId === "string") await deps.db.markWrite(`user:${userId}`);
}
