import { type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { FailedJobsTable } from "../../db/schema-background.ts";

export type FailedJobRow = Selectable<FailedJobsTable>;

export type NewFailedJob = {
  jobId: string;
  lane: string;
  jobName: string;
  groupId: string;
  envelope: Record<string, unknown>;
  error: string;
  errorName: string;
  attempts: number;
};

/** Keeps a job that used all its attempts; recording the same open failure twice keeps the first row. */
export async function insertFailedJob(db: Db, f: NewFailedJob): Promise<void> {
  await db
    .insertInto("failed_jobs")
    .values({
      id: Bun.randomUUIDv7(),
      job_id: f.jobId,
      lane: f.lane,
      job_name: f.jobName,
      group_id: f.groupId,
      envelope: f.envelope,
      error: f.error.slice(0, 4_000),
      error_name: f.errorName.slice(0, 200),
      attempts: f.attempts,
    })
    .onConflict((oc) => oc.column("job_id").where("retried_at", "is", null).doNothing())
    .execute();
}

export type FailedJobFilter = {
  limit: number;
  /** UUIDv7 ids grow with the failure time: the id alone is an exact cursor. */
  afterId?: string;
  lane?: string;
  jobName?: string;
};

/** Open failures (not yet re-driven), newest first. */
export async function listOpenFailedJobs(db: Db, f: FailedJobFilter): Promise<FailedJobRow[]> {
  let query = db.selectFrom("failed_jobs").selectAll().where("retried_at", "is", null);
  if (f.lane) query = query.where("lane", "=", f.lane);
  if (f.jobName) query = query.where("job_name", "=", f.jobName);
  if (f.afterId) query = query.where("id", "<", f.afterId);
  return query.orderBy("id", "desc").limit(f.limit).execute();
}

export async function findFailedJob(db: Db, id: string): Promise<FailedJobRow | undefined> {
  return db.selectFrom("failed_jobs").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Claims an open failure for redrive; undefined when it does not exist or was already re-driven. */
export async function claimFailedJobForRetry(
  db: Db,
  id: string,
  by: { userId: string; retryJobId: string },
): Promise<FailedJobRow | undefined> {
  return db
    .updateTable("failed_jobs")
    .set({
      retried_at: sql`now()`,
      retried_by: by.userId,
      retry_job_id: by.retryJobId,
      updated_at: sql`now()`,
    })
    .where("id", "=", id)
    .where("retried_at", "is", null)
    .returningAll()
    .executeTakeFirst();
}

/** Undoes a claim when the job could not be enqueued, so the failure stays visible and retryable. */
export async function unclaimFailedJob(db: Db, id: string): Promise<void> {
  await db
    .updateTable("failed_jobs")
    .set({ retried_at: null, retried_by: null, retry_job_id: null, updated_at: sql`now()` })
    .where("id", "=", id)
    .execute();
}
