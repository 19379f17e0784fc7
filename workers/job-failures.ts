/**
 * What a lane worker does with a job that cannot finish normally: dead letters (failed_jobs + metric + the job's
 * own follow-up), error tracking of final failures, deferral while a dependency is out, and groupmq's stalled
 * jobs (a worker that crashed too often).
 */
import type { ReservedJob } from "groupmq";
import { JOB_STATUS, readJobHash } from "../src/infra/groupmq-keys.ts";
import { type JobEnvelope, parseEnvelope } from "../src/infra/job-catalogue.ts";
import type { Logger } from "../src/infra/logger.ts";
import { queueMetrics } from "../src/infra/queue-metrics.ts";
import type { Lane, LaneQueues } from "../src/infra/queues.ts";
import { traceIdOf } from "../src/infra/trace-context.ts";
import { recordDeadLetter } from "./dead-letters.ts";
import { deferJob, JobDeferralExpiredError, type JobDeferred } from "./defer-job.ts";
import type { JobContext, JobRegistry, WorkerDeps } from "./job-types.ts";
import { markOwnersWrite } from "./owner-write.ts";

/** The user a job works for, when its payload names one (their id only). */
const ownerOf = (payload: unknown) => {
  const id = payload && typeof payload === "object" ? (payload as { userId?: unknown }).userId : undefined;
  return typeof id === "string" ? id : undefined;
};
export const toError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
export const nameOf = (data: unknown) =>
  String((data && typeof data === "object" && (data as { name?: unknown }).name) || "(unknown)");

export function jobFailures(opts: {
  deps: WorkerDeps;
  lane: Lane;
  queue: ReturnType<LaneQueues["queue"]>;
  registry: JobRegistry;
  log: Logger;
}) {
  const { deps, lane, queue, registry, log } = opts;
  const metrics = queueMetrics(deps.metrics.registry);

  async function deadLetter(job: ReservedJob<JobEnvelope>, error: Error, attempts: number) {
    metrics.deadLetters.inc({ lane, job: nameOf(job.data) });
    await recordDeadLetter(deps, {
      lane,
      jobId: job.id,
      groupId: job.groupId,
      jobName: nameOf(job.data),
      envelope: job.data,
      error,
      attempts,
    });
  }

  /** A job that used all its attempts (or its deferral cap) goes to error tracking with its trace and owner. */
  function reportFailure(error: Error, name: string, payload: unknown, ctx: JobContext) {
    deps.telemetry.errors.capture(error, {
      traceId: traceIdOf(ctx.traceparent),
      spanId: ctx.traceparent?.slice(36, 52),
      userId: ownerOf(payload),
      job: { name, lane, id: ctx.jobId, attempt: ctx.attempt },
    });
  }

  /**
   * The job waits for a dependency (an open breaker) without spending an attempt; past the lane's cap it is
   * dead-lettered with a reason that says so. groupmq's own completion of the run is then a no-op: the job is
   * no longer in its processing set.
   */
  async function defer(
    job: ReservedJob<JobEnvelope>,
    name: JobEnvelope["name"],
    payload: unknown,
    deferred: JobDeferred,
    ctx: JobContext,
  ): Promise<unknown> {
    const result = await deferJob(queue.redis, queue.namespace, job.id, {
      delayMs: deferred.delayMs,
      capMs: deps.config.queues.deferMaxMs,
      counted: true,
    });
    if (result.kind === "deferred") {
      metrics.finished.inc({ lane, job: name, outcome: "deferred" });
      ctx.logger.info(
        { delayMs: deferred.delayMs, waitedMs: result.waitedMs, reason: deferred.reason },
        "job deferred",
      );
      return { deferredMs: deferred.delayMs };
    }
    if (result.kind === "lost") return null;
    const error = new JobDeferralExpiredError(deferred.reason, result.waitedMs, { cause: deferred.cause });
    metrics.finished.inc({ lane, job: name, outcome: "failed" });
    reportFailure(error, name, payload, ctx);
    ctx.logger.error({ err: error.message, errName: error.name, final: true }, "job failed");
    await deadLetter(job, error, ctx.attempt);
    await registry[name].onDeadLetter?.(deps, payload as never, error).catch((err: unknown) => {
      ctx.logger.error({ err: toError(err).message }, "dead-letter follow-up failed");
    });
    void markOwnersWrite(deps, payload);
    return { deadLettered: true };
  }

  /** groupmq fails a job after maxStalledCount crashes, keeps no copy and leaves the rest of its group waiting. */
  async function onStalled(jobId: string, groupId: string) {
    const hash = await readJobHash(queue.redis, queue.namespace, jobId);
    if (hash?.status !== JOB_STATUS.failed) {
      log.warn({ jobId, groupId }, "job of a crashed worker handed out again");
      return;
    }
    let envelope: unknown = null;
    try {
      envelope = JSON.parse(hash.data ?? "null");
    } catch {
      envelope = hash.data;
    }
    const error = new Error(hash.failedReason || "the job's worker stopped too many times");
    error.name = "JobStalledError";
    metrics.deadLetters.inc({ lane, job: nameOf(envelope) });
    await recordDeadLetter(deps, {
      lane,
      jobId,
      groupId,
      jobName: nameOf(envelope),
      envelope,
      error,
      attempts: hash.attempts + 1,
    });
    await queue.remove(jobId); // also puts the group's next job back in the ready set
    try {
      const { envelope: valid, payload } = parseEnvelope(envelope);
      await registry[valid.name].onDeadLetter?.(deps, payload as never, error);
    } catch (err) {
      log.error({ jobId, err: toError(err).message }, "dead-letter follow-up failed");
    }
  }

  return { deadLetter, reportFailure, defer, onStalled };
}
