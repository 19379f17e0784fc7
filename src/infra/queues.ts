import { Queue } from "groupmq";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import type { Config } from "../config/index.ts";
import { LANES, type Lane, type LaneConfig } from "../config/queues.ts";
import { isRoutineGroupmqWarning, laneCanary, reloadScriptsOnNoscript } from "./groupmq-client.ts";
import {
  type JobEnvelope,
  type JobInput,
  type JobName,
  laneFor,
  parseEnvelope,
  parsePayload,
  type UserRole,
} from "./job-catalogue.ts";
import type { Logger } from "./logger.ts";
import { queueMetrics } from "./queue-metrics.ts";
import { closeRedis, createRedis } from "./redis.ts";
import { outgoingTraceparent } from "./trace-context.ts";
import { SpanKind, withSpan } from "./tracing/spans.ts";

export { LANES, type Lane, type LaneConfig };

/** Redis did not take the job in time (it may still arrive later: every job is idempotent). */
export class EnqueueTimeoutError extends Error {
  override readonly name = "EnqueueTimeoutError";
}

export type LaneQueues = {
  readonly redis: Redis;
  readonly config: Config["queues"];
  queue(lane: Lane): Queue<JobEnvelope>;
  /** From now on groupmq's reports of closed connections are debug lines: a draining worker closes them. */
  quiet(): void;
  /**
   * Proves the lanes can accept and serve jobs: one of groupmq's scripts runs and a write is acknowledged on
   * the queue connection, within `timeoutMs`. Rejects otherwise (the socket being open is not enough).
   */
  canary(timeoutMs: number): Promise<void>;
  /** False while the queue connection, once up, is known to be down: an enqueue then fails at once. */
  connected(): boolean;
  /** How long an enqueue may wait for Redis. */
  readonly enqueueTimeoutMs: number;
  close(): Promise<void>;
};

/** groupmq keys live under `groupmq:<REDIS_KEY_PREFIX><lane>`, so test runs and environments never mix. */
export function laneNamespace(keyPrefix: string, lane: Lane): string {
  return `${keyPrefix}${lane}`;
}

/**
 * `waitThroughOutagesMs` (workers): an enqueue waits for Redis to come back, up to that many ms,
 * instead of failing at once: a job's follow-up (its notification) is not on anyone's request path, and it
 * must not be lost because Redis restarted while the job ran. The API fails fast (QUEUE_ENQUEUE_TIMEOUT_MS).
 */
export function createLaneQueues(
  config: Config,
  logger: Logger,
  opts: { waitThroughOutagesMs?: number } = {},
): LaneQueues {
  // Its own connection: queue commands must not wait behind cache traffic, and they retry through outages.
  // groupmq never reloads its Lua scripts after a Redis restart or failover; this client does it for it.
  const redis = reloadScriptsOnNoscript(createRedis(config.redis, "queue"), () =>
    logger.info("groupmq script reloaded after NOSCRIPT (redis restarted or failed over)"),
  );
  redis.on("error", (err) => logger.warn({ err: err.message }, "redis queue connection error"));
  // Every groupmq worker listens on the queue connection; a process runs dozens of them by design.
  redis.setMaxListeners(0);
  let wasReady = false;
  redis.on("ready", () => {
    wasReady = true;
  });
  let quiet = false;
  const log = groupmqLogger(logger, () => quiet);
  const queues = Object.fromEntries(
    LANES.map((lane) => [
      lane,
      new Queue<JobEnvelope>({
        redis,
        namespace: laneNamespace(config.redis.keyPrefix, lane),
        jobTimeoutMs: config.queues.leaseMs,
        maxAttempts: config.queues.lanes[lane].attempts,
        // We keep our own dead letters (failed_jobs); groupmq's retention would only grow Redis.
        keepCompleted: 0,
        keepFailed: 0,
        logger: log,
      }),
    ]),
  ) as Record<Lane, Queue<JobEnvelope>>;
  let closed = false;
  return {
    redis,
    config: config.queues,
    queue: (lane) => queues[lane],
    quiet: () => {
      quiet = true;
    },
    connected: () => opts.waitThroughOutagesMs !== undefined || !wasReady || redis.status === "ready",
    enqueueTimeoutMs: opts.waitThroughOutagesMs ?? config.queues.enqueueTimeoutMs,
    async canary(timeoutMs) {
      // The queue client waits through outages by design (no command timeout): bound the probe here, and do not
      // pile probes into its offline queue while the socket is known down (before the first connect, wait).
      if (wasReady && redis.status !== "ready") throw new Error(`queue connection ${redis.status}`);
      let timer: Timer | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`queue canary: no answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      const probe = Promise.all([
        laneCanary(queues.default),
        redis.set(`${config.redis.keyPrefix}queue-canary`, String(Date.now()), "PX", 10_000),
      ]);
      probe.catch(() => {});
      await Promise.race([probe, deadline]).finally(() => clearTimeout(timer));
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeRedis(redis);
    },
  };
}

export type EnqueueOptions = {
  /** Jobs of one group run one at a time, in order (e.g. `user:<id>`); different groups run in parallel. */
  groupId: string;
  /** Premium users' identifications go to the priority lane. */
  userRole?: UserRole;
  /** W3C trace context of the request that caused the job (default: the current request's or job's). */
  traceparent?: string;
  /** A stable id makes the enqueue itself idempotent while the job is waiting or running. */
  jobId?: string;
  delayMs?: number;
};

export type EnqueuedJob = { id: string; lane: Lane; name: JobName };

/** Validates the payload against the job's schema, picks the lane from the routing table and adds the job. */
export async function enqueue<N extends JobName>(
  deps: EnqueueDeps,
  name: N,
  payload: JobInput<N>,
  opts: EnqueueOptions,
): Promise<EnqueuedJob> {
  const valid = parsePayload(name, payload);
  const lane = laneFor(name, opts.userRole);
  // With tracing on, the enqueue is a producer span and the job's run (in a worker) a child of it.
  return withSpan(
    `enqueue ${name}`,
    { "messaging.system": "groupmq", "messaging.destination.name": lane, "plant.job.name": name },
    async () => {
      const envelope: JobEnvelope = { name, payload: valid, enqueuedAt: Date.now() };
      // Inside a request or a job, the new job joins its trace without every caller passing it along.
      const traceparent = opts.traceparent ?? outgoingTraceparent();
      if (traceparent) envelope.traceparent = traceparent;
      return addToLane(deps, lane, envelope, opts);
    },
    SpanKind.PRODUCER,
  );
}

/**
 * Re-drives a dead letter into the lane it failed in (a premium job stays in the priority lane), with a fresh
 * set of attempts. The stored envelope is validated again: the schema may have changed since.
 */
export async function redrive(
  deps: EnqueueDeps,
  lane: Lane,
  stored: unknown,
  opts: Pick<EnqueueOptions, "groupId" | "jobId">,
): Promise<EnqueuedJob> {
  const { envelope, payload } = parseEnvelope(stored);
  return addToLane(deps, lane, { ...envelope, payload, enqueuedAt: Date.now() }, opts);
}

type EnqueueDeps = { queues: LaneQueues; metrics?: { registry: Registry } };

async function addToLane(
  deps: EnqueueDeps,
  lane: Lane,
  envelope: JobEnvelope,
  opts: Pick<EnqueueOptions, "groupId" | "jobId" | "delayMs">,
): Promise<EnqueuedJob> {
  // The queue client waits through outages by design (workers); a request must not: fail now, not at the deadline.
  if (!deps.queues.connected()) throw new EnqueueTimeoutError(`${envelope.name} not enqueued: redis is down`);
  const adding = deps.queues.queue(lane).add({
    groupId: opts.groupId,
    data: envelope,
    jobId: opts.jobId ?? Bun.randomUUIDv7(),
    maxAttempts: deps.queues.config.lanes[lane].attempts,
    delay: opts.delayMs,
  });
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const ms = deps.queues.enqueueTimeoutMs;
    timer = setTimeout(
      () => reject(new EnqueueTimeoutError(`${envelope.name} not enqueued within ${ms} ms`)),
      ms,
    );
  });
  const job = await Promise.race([adding, deadline]).finally(() => clearTimeout(timer));
  if (deps.metrics) queueMetrics(deps.metrics.registry).enqueued.inc({ lane, job: envelope.name });
  return { id: job.id, lane, name: envelope.name };
}

/** groupmq logs `(message, ...args)`; pino wants one object and a message. */
export function groupmqLogger(logger: Logger, quiet: () => boolean = () => false) {
  const child = logger.child({ component: "groupmq" });
  const fmt = (args: unknown[]) =>
    args
      .map((a) => (a instanceof Error ? a.message : typeof a === "string" ? a : JSON.stringify(a)))
      .join(" ");
  return {
    // groupmq logs every reserve at debug: that is trace for us, or debug logs drown in it.
    debug: (...args: unknown[]) => child.trace(fmt(args)),
    info: (...args: unknown[]) => child.debug(fmt(args)),
    // While a worker shuts down, groupmq reports its own closed connections as errors.
    warn: (...args: unknown[]) => {
      const message = fmt(args);
      return quiet() || isRoutineGroupmqWarning(message) ? child.debug(message) : child.warn(message);
    },
    error: (...args: unknown[]) => (quiet() ? child.debug(fmt(args)) : child.error(fmt(args))),
  };
}
