import { type ReservedJob, Worker } from "groupmq";
import { DbTimeoutError, DbUnavailableError } from "../src/db/deadline.ts";
import { isConnectionError } from "../src/db/errors.ts";
import { countJobStart } from "../src/infra/groupmq-keys.ts";
import { backoffDelay, type JobEnvelope, parseEnvelope } from "../src/infra/job-catalogue.ts";
import { queueMetrics } from "../src/infra/queue-metrics.ts";
import { groupmqLogger, type Lane } from "../src/infra/queues.ts";
import { childTraceparent, runWithTraceparent, traceIdOf } from "../src/infra/trace-context.ts";
import {
  failSpan,
  runInSpan,
  SpanKind,
  spanTraceparent,
  startEntrySpan,
} from "../src/infra/tracing/spans.ts";
import { JobDeferred } from "./defer-job.ts";
import { jobFailures, nameOf, toError } from "./job-failures.ts";
import type { JobContext, JobRegistry, WorkerDeps } from "./job-types.ts";
import { markOwnersWrite } from "./owner-write.ts";
import { releaseJob } from "./release-job.ts";

export class JobTimeoutError extends Error {
  override readonly name = "JobTimeoutError";
}
class JobReleasedError extends Error {
  override readonly name = "JobReleasedError";
}

export type LaneWorker = {
  readonly lane: Lane;
  running(): number;
  /** Stops taking jobs, waits for the running ones until `deadlineAt`, then hands the rest back to the lane. */
  drain(deadlineAt: number): Promise<{ released: number }>;
};

/** How soon a job that met an unreachable database runs again (the database gate lets one probe through). */
const DB_RETRY_MS = 1_000;

/**
 * The database layer's own refusals and deadlines, or a connection error while the primary is known to be down.
 * A bare ECONNREFUSED proves nothing by itself: an SMTP server refusing the mailer has the same code.
 */
function databaseOutage(deps: WorkerDeps, err: unknown): boolean {
  if (err instanceof DbUnavailableError || err instanceof DbTimeoutError) return true;
  return isConnectionError(err) && deps.db.primaryGate?.down === true;
}

/** A promise that never settles: groupmq then neither completes nor retries a job we handed back. */
const handedBack = () => new Promise<never>(() => {});

/**
 * Consumes one lane with `concurrency` groupmq workers of concurrency 1. (groupmq's own concurrency > 1
 * busy-polls Redis while a job runs and the lane is empty: ~100k commands/s measured, see the report.)
 * Around each job: payload validation, the lane's time limit (abort signal + deadline; groupmq's job timeout is
 * only a lease), dead letters in failed_jobs, metrics, and a drain that hands unfinished jobs back.
 */
export function startLaneWorker(deps: WorkerDeps, lane: Lane, registry: JobRegistry): LaneWorker {
  const queue = deps.queues.queue(lane);
  const { lanes, leaseMs, maxStalledCount, stalledCheckMs } = deps.config.queues;
  const laneConfig = lanes[lane];
  const metrics = queueMetrics(deps.metrics.registry);
  const log = deps.logger.child({ lane });
  const running = new Map<string, { controller: AbortController; released: boolean }>();
  let draining = false;
  let onIdle: (() => void) | undefined;
  const { deadLetter, reportFailure, defer, onStalled } = jobFailures({ deps, lane, queue, registry, log });

  async function handle(job: ReservedJob<JobEnvelope>): Promise<unknown> {
    if (draining) {
      // Reserved while the worker was stopping (groupmq chains the next job of a group on completion).
      await releaseJob(queue.redis, queue.namespace, job.id, false).catch(() => false);
      return handedBack();
    }
    const attempt = job.attempts + 1;
    let parsed: ReturnType<typeof parseEnvelope>;
    try {
      parsed = parseEnvelope(job.data);
    } catch (err) {
      // A payload that does not validate will not validate on the next attempt either.
      metrics.finished.inc({ lane, job: nameOf(job.data), outcome: "invalid" });
      log.error({ jobId: job.id, err: toError(err).message }, "job payload rejected");
      await deadLetter(job, toError(err), attempt);
      return { deadLettered: true };
    }
    const { envelope, payload } = parsed;
    const definition = registry[envelope.name];
    // groupmq hands the job of a dead worker out again without counting anything (its reserve script recovers
    // it before the stall check can), so a job that kills its worker would run forever: count starts ourselves.
    const crashes = (await countJobStart(queue.redis, queue.namespace, job.id)) - attempt;
    if (crashes > 0) {
      metrics.redeliveries.inc({ lane });
      log.warn({ jobId: job.id, job: envelope.name, crashes }, "job of a dead worker delivered again");
    }
    if (crashes >= maxStalledCount) {
      const error = new Error(`its worker died ${crashes} times while running it`);
      error.name = "JobCrashLoopError";
      metrics.finished.inc({ lane, job: envelope.name, outcome: "failed" });
      await deadLetter(job, error, attempt);
      await definition.onDeadLetter?.(deps, payload as never, error).catch(() => {});
      return { deadLettered: true };
    }
    const started = Date.now();
    if (job.attempts === 0) {
      const waitMs = Math.max(0, started - envelope.enqueuedAt);
      metrics.waitSeconds.observe({ lane }, waitMs / 1000);
      log.debug({ jobId: job.id, job: envelope.name, waitMs }, "job started");
    }

    const controller = new AbortController();
    const entry = { controller, released: false };
    running.set(job.id, entry);
    metrics.inFlight.inc({ lane });
    const timer = setTimeout(
      () =>
        controller.abort(
          new JobTimeoutError(
            `${envelope.name} ran past the ${lane} lane's limit of ${laneConfig.timeLimitMs} ms`,
          ),
        ),
      laneConfig.timeLimitMs,
    );
    // The run continues the trace of whoever enqueued the job: provider calls and follow-up jobs join it.
    // With tracing on it is a consumer span, child of the enqueue's producer span (in the request's trace).
    const { tracer } = deps.telemetry.tracing;
    const span = tracer
      ? startEntrySpan(tracer, `job ${envelope.name}`, SpanKind.CONSUMER, envelope.traceparent, {
          "messaging.system": "groupmq",
          "messaging.destination.name": lane,
          "messaging.message.id": job.id,
          "plant.job.name": envelope.name,
          "plant.job.attempt": attempt,
        })
      : undefined;
    const traceparent = span ? spanTraceparent(span) : childTraceparent(envelope.traceparent);
    const ctx: JobContext = {
      signal: controller.signal,
      attempt,
      maxAttempts: laneConfig.attempts,
      jobId: job.id,
      lane,
      traceparent,
      logger: log.child({ jobId: job.id, job: envelope.name, attempt, traceId: traceIdOf(traceparent) }),
    };
    const aborted = new Promise<never>((_, reject) =>
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }),
    );
    aborted.catch(() => {});
    try {
      const run = () => definition.run(deps, payload as never, ctx);
      const work = span && tracer ? runInSpan(tracer, span, run) : runWithTraceparent(traceparent, run);
      const result = await Promise.race([work, aborted]);
      void markOwnersWrite(deps, payload);
      metrics.finished.inc({ lane, job: envelope.name, outcome: "completed" });
      span?.setAttribute("plant.job.outcome", "completed");
      ctx.logger.debug({ ms: Date.now() - started }, "job completed");
      return result ?? null;
    } catch (caught) {
      if (entry.released) return handedBack();
      if (caught instanceof JobDeferred) return defer(job, envelope.name, payload, caught, ctx);
      // An unreachable database is an outage, not this job's fault: wait for it without spending attempts.
      if (databaseOutage(deps, caught)) {
        const deferred = new JobDeferred(DB_RETRY_MS, "the database is unreachable", { cause: caught });
        return defer(job, envelope.name, payload, deferred, ctx);
      }
      const error = toError(caught);
      const final = attempt >= laneConfig.attempts;
      const outcome = final ? "failed" : error instanceof JobTimeoutError ? "timeout" : "retry";
      metrics.finished.inc({ lane, job: envelope.name, outcome });
      ctx.logger[final ? "error" : "warn"]({ err: error.message, errName: error.name, final }, "job failed");
      if (span) failSpan(span, error);
      span?.setAttribute("plant.job.outcome", outcome);
      if (final) {
        // A job that used all its attempts is a failure someone must look at (earlier attempts may be
        // transient: a provider timeout that the retry absorbs).
        reportFailure(error, envelope.name, payload, ctx);
        await deadLetter(job, error, attempt);
        await definition.onDeadLetter?.(deps, payload as never, error).catch((err: unknown) => {
          ctx.logger.error({ err: toError(err).message }, "dead-letter follow-up failed");
        });
        void markOwnersWrite(deps, payload);
      }
      throw error; // groupmq retries with our backoff, or drops it after the last attempt (kept above)
    } finally {
      span?.end();
      clearTimeout(timer);
      running.delete(job.id);
      metrics.inFlight.dec({ lane });
      metrics.runSeconds.observe({ lane, job: envelope.name }, (Date.now() - started) / 1000);
      if (running.size === 0) onIdle?.();
    }
  }

  const gmqLog = groupmqLogger(log, () => draining);
  const workers = Array.from(
    { length: laneConfig.concurrency },
    (_, i) =>
      new Worker<JobEnvelope>({
        queue,
        name: `${lane}#${i}`,
        concurrency: 1,
        handler: handle,
        maxAttempts: laneConfig.attempts,
        backoff: (retry) => backoffDelay(laneConfig, retry),
        // groupmq's default of 1 turns the first crash into a lost job.
        maxStalledCount,
        // One worker per process runs the periodic chores (stall check, delayed-job promotion, cleanup).
        stalledInterval: i === 0 ? stalledCheckMs : 0,
        enableCleanup: i === 0,
        stalledGracePeriod: Math.min(1_000, Math.floor(leaseMs / 4)),
        logger: gmqLog,
      }),
  );
  workers[0]?.on("stalled", (jobId, groupId) => {
    onStalled(jobId, groupId).catch((err: unknown) =>
      log.error({ jobId, err: toError(err).message }, "stalled job not handled"),
    );
  });
  log.info(
    {
      concurrency: laneConfig.concurrency,
      timeLimitMs: laneConfig.timeLimitMs,
      attempts: laneConfig.attempts,
    },
    "lane worker started",
  );

  return {
    lane,
    running: () => running.size,
    async drain(deadlineAt) {
      draining = true;
      const closing = workers.map((w) => w.close(Math.max(0, deadlineAt - Date.now())).catch(() => {}));
      if (running.size > 0) {
        await new Promise<void>((resolve) => {
          onIdle = resolve;
          setTimeout(resolve, Math.max(0, deadlineAt - Date.now()));
        });
      }
      let released = 0;
      for (const [jobId, entry] of running) {
        entry.released = true;
        entry.controller.abort(new JobReleasedError("the worker is shutting down"));
        if (await releaseJob(queue.redis, queue.namespace, jobId, true).catch(() => false)) released++;
      }
      if (released > 0) log.warn({ released }, "unfinished jobs handed back to the lane");
      // Workers holding a handed-back job never finish closing; the process exits without them.
      await Promise.race([Promise.all(closing), Bun.sleep(released > 0 ? 200 : 3_000)]);
      return { released };
    },
  };
}
