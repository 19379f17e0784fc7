import { z } from "zod";
import { LANES } from "../../config/queues.ts";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, encodeCursor } from "../../core/cursor.ts";
import type { Unlinked } from "../../core/page.ts";
import type { Deps } from "../../deps.ts";
import { InvalidJobPayloadError, type JobName } from "../../infra/job-catalogue.ts";
import { type Lane, redrive } from "../../infra/queues.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import {
  claimFailedJobForRetry,
  type FailedJobRow,
  findFailedJob,
  listOpenFailedJobs,
} from "./failed-jobs.repo.ts";
import type { FailedJob, FailedJobPage, FailedJobQuery, RetriedJob } from "./jobs.schemas.ts";

const CursorSchema = z.object({ i: z.string().uuid() });

function toDto(row: FailedJobRow): FailedJob {
  return {
    id: row.id,
    jobId: row.job_id,
    job: row.job_name as JobName,
    lane: row.lane as Lane,
    groupId: row.group_id,
    payload: (row.envelope as { payload?: unknown }).payload ?? null,
    error: { name: row.error_name, message: row.error },
    attempts: row.attempts,
    failedAt: row.failed_at.toISOString(),
  };
}

export function createJobsService(deps: Pick<Deps, "db" | "queues" | "metrics" | "logger">) {
  return {
    async listFailed(query: FailedJobQuery): Promise<Unlinked<FailedJobPage>> {
      const after = query.cursor ? decodeCursor(query.cursor, CursorSchema) : undefined;
      // Operators look at what others just did: the primary, not a replica that may not have it yet.
      const rows = await deps.db.readCurrent((db) =>
        listOpenFailedJobs(db, {
          limit: query.limit + 1,
          afterId: after?.i,
          lane: query.lane,
          jobName: query.job,
        }),
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > query.limit && last ? encodeCursor({ i: last.id }) : null;
      return { data: page.map(toDto), nextCursor };
    },

    /** Claim, enqueue and audit commit together: a failed enqueue leaves the dead letter open and unaudited. */
    async retry(actor: AuditActor & { userId: string }, id: string, clientKey: string): Promise<RetriedJob> {
      const result = await deps.db.primary.transaction().execute(async (trx) => {
        const retryJobId = Bun.randomUUIDv7();
        const row = await claimFailedJobForRetry(trx, id, { userId: actor.userId, retryJobId });
        if (!row) {
          if (await findFailedJob(trx, id))
            throw new AppError("conflict", "This failed job was already re-driven.");
          throw new AppError("not_found", "No failed job with this id.");
        }
        if (!(LANES as readonly string[]).includes(row.lane))
          throw new AppError("conflict", `Lane ${row.lane} no longer exists.`);
        try {
          await redrive(deps, row.lane as Lane, row.envelope, { groupId: row.group_id, jobId: retryJobId });
        } catch (err) {
          if (err instanceof InvalidJobPayloadError) {
            throw new AppError(
              "conflict",
              "The stored payload does not match the job's current schema; it cannot be re-driven.",
            );
          }
          throw new AppError("service_unavailable", "The job queue is not available.", {
            retryAfterSeconds: 5,
            cause: err,
          });
        }
        await recordAudit(trx, actor, {
          action: "job.retry",
          entityType: "failed_job",
          entityId: id,
          after: { job: row.job_name, lane: row.lane, jobId: row.job_id, retryJobId },
        });
        return { row, retryJobId };
      });
      await deps.db.markWrite(clientKey);
      deps.logger.info(
        { failedJobId: id, retryJobId: result.retryJobId, job: result.row.job_name },
        "failed job re-driven",
      );
      return {
        id,
        job: result.row.job_name as JobName,
        lane: result.row.lane as Lane,
        retryJobId: result.retryJobId,
        retriedAt: new Date().toISOString(),
      };
    },
  };
}

export type JobsService = ReturnType<typeof createJobsService>;
