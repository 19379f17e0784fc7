import type { Lane } from "../src/infra/queues.ts";
import { insertFailedJob } from "../src/modules/jobs/failed-jobs.repo.ts";
import type { WorkerDeps } from "./job-types.ts";

export type DeadLetter = {
  lane: Lane;
  jobId: string;
  groupId: string;
  jobName: string;
  envelope: unknown;
  error: Error;
  attempts: number;
};

/**
 * groupmq drops a job that used its attempts; we keep it in failed_jobs for the admin list and redrive.
 * A database hiccup gets a few quick retries; if it still fails, the whole job goes to the error log, which is
 * then the only copy (counted in queue_dead_letters_total either way).
 */
export async function recordDeadLetter(deps: WorkerDeps, d: DeadLetter): Promise<boolean> {
  const row = {
    jobId: d.jobId,
    lane: d.lane,
    jobName: d.jobName,
    groupId: d.groupId,
    envelope: (d.envelope && typeof d.envelope === "object" ? d.envelope : { raw: d.envelope }) as Record<
      string,
      unknown
    >,
    error: d.error.message || String(d.error),
    errorName: d.error.name || "Error",
    attempts: d.attempts,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await insertFailedJob(deps.db.primary, row);
      return true;
    } catch (err) {
      if (attempt >= 3) {
        // Logs never carry full e-mail addresses (an email.send payload has one): masked here.
        const logged = JSON.parse(JSON.stringify(row).replace(/[^\s"@]+@([^\s"@]+)/g, "***@$1"));
        deps.logger.error(
          { err: String(err), deadLetter: logged },
          "dead letter not stored; this log line is its only copy",
        );
        return false;
      }
      await Bun.sleep(100 * attempt);
    }
  }
}
