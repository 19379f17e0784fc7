import { z } from "zod";
import { int } from "./env-types.ts";

/** The four lanes of background work; each is consumed by its own worker processes (one Fly group each). */
export const LANES = ["fast", "default", "slow", "priority"] as const;
export type Lane = (typeof LANES)[number];

const lanes = z
  .string()
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(LANES)).min(1, "name at least one lane"))
  .transform((v) => [...new Set(v)]);

/** Environment of the queues and workers; merged into the one schema in index.ts. */
export const BackgroundEnvShape = {
  WORKER_QUEUES: lanes.prefault(LANES.join(",")),
  WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(9091),
  WORKER_DRAIN_TIMEOUT_MS: int(0).default(25_000),
  // groupmq's "job timeout" is a visibility lease renewed by heartbeats; a crashed worker's job is redelivered
  // about one lease after its last heartbeat. It is not a time limit: the lane limits below are.
  QUEUE_LEASE_MS: int(1_000).default(30_000),
  QUEUE_STALLED_CHECK_MS: int(100).default(5_000),
  // groupmq's default of 1 fails a job on the first crash instead of redelivering it.
  QUEUE_MAX_STALLED_COUNT: int(2).default(3),
  // How long one queue_depth reading serves scrapes: counting scans every group (15-30 s, never per request).
  QUEUE_METRICS_INTERVAL_MS: int(1_000).default(15_000),
  // Queue connections wait through Redis outages; a request that enqueues must not wait with them.
  QUEUE_ENQUEUE_TIMEOUT_MS: int(50).default(2_000),

  QUEUE_FAST_CONCURRENCY: int(1).default(20),
  QUEUE_FAST_TIME_LIMIT_MS: int(100).default(10_000),
  QUEUE_FAST_ATTEMPTS: int(1).default(5),
  QUEUE_FAST_BACKOFF_MS: int(0).default(1_000),
  QUEUE_DEFAULT_CONCURRENCY: int(1).default(8),
  QUEUE_DEFAULT_TIME_LIMIT_MS: int(100).default(60_000),
  QUEUE_DEFAULT_ATTEMPTS: int(1).default(3),
  QUEUE_DEFAULT_BACKOFF_MS: int(0).default(5_000),
  QUEUE_SLOW_CONCURRENCY: int(1).default(2),
  QUEUE_SLOW_TIME_LIMIT_MS: int(100).default(900_000),
  QUEUE_SLOW_ATTEMPTS: int(1).default(3),
  QUEUE_SLOW_BACKOFF_MS: int(0).default(30_000),
  QUEUE_PRIORITY_CONCURRENCY: int(1).default(8),
  QUEUE_PRIORITY_TIME_LIMIT_MS: int(100).default(60_000),
  QUEUE_PRIORITY_ATTEMPTS: int(1).default(3),
  QUEUE_PRIORITY_BACKOFF_MS: int(0).default(2_000),
  QUEUE_BACKOFF_MAX_MS: int(0).default(600_000),

  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().default("Plant Community <no-reply@plant.community>"),
  MAIL_OUTBOX_DIR: z.string().default(".data/outbox"),
  MEDIA_RETENTION_DAYS: z.coerce.number().min(0).default(30),
  MEDIA_PURGE_EVERY_MS: int(1_000).default(3_600_000),
  CACHE_WARM_EVERY_MS: int(1_000).default(900_000),
  // Queued work whose job never reached the lane (API died between commit and enqueue, or a Redis failover lost
  // the last writes) is re-enqueued after this. Short is safe: the re-enqueue reuses the API's job id, a no-op
  // while the job exists in the lane; a row leaves `queued` when its job starts; the API's own enqueue ends
  // within QUEUE_ENQUEUE_TIMEOUT_MS (2 s); a job run twice by the remaining race finds its row done (idempotent).
  QUEUE_STRANDED_AFTER_MS: int(1_000).default(15_000),
  CACHE_WARM_TOP_N: int(1).default(50),
  BATCH_MAX_IMAGES: int(1).default(20),
  BATCH_MAX_REQUEST_BYTES: int(1_024).default(104_857_600),
  // A job that meets open provider breakers waits for them without spending attempts, at most this long in all.
  QUEUE_DEFER_MAX_MS: int(0).default(1_800_000),
};

const BackgroundEnvSchema = z.object(BackgroundEnvShape);
type BackgroundEnv = z.infer<typeof BackgroundEnvSchema>;

export type LaneConfig = Readonly<{
  concurrency: number;
  timeLimitMs: number;
  attempts: number;
  backoffMs: number;
  backoffMaxMs: number;
}>;

export type BackgroundConfig = Readonly<{
  queues: Readonly<{
    lanes: Readonly<Record<Lane, LaneConfig>>;
    leaseMs: number;
    stalledCheckMs: number;
    maxStalledCount: number;
    metricsIntervalMs: number;
    enqueueTimeoutMs: number;
    /** Total time a job may be deferred (JobDeferred) before it is dead-lettered. */
    deferMaxMs: number;
  }>;
  worker: Readonly<{ lanes: readonly Lane[]; port: number; drainTimeoutMs: number }>;
  mail: Readonly<{ smtpUrl: string | undefined; from: string; outboxDir: string }>;
  jobs: Readonly<{
    mediaRetentionDays: number;
    mediaPurgeEveryMs: number;
    cacheWarmEveryMs: number;
    strandedAfterMs: number;
    cacheWarmTopN: number;
  }>;
  batches: Readonly<{ maxImages: number; maxRequestBytes: number }>;
}>;

export function backgroundConfig(e: BackgroundEnv): BackgroundConfig {
  const lane = (
    concurrency: number,
    timeLimitMs: number,
    attempts: number,
    backoffMs: number,
  ): LaneConfig => ({
    concurrency,
    timeLimitMs,
    attempts,
    backoffMs,
    backoffMaxMs: e.QUEUE_BACKOFF_MAX_MS,
  });
  return {
    queues: {
      lanes: {
        fast: lane(
          e.QUEUE_FAST_CONCURRENCY,
          e.QUEUE_FAST_TIME_LIMIT_MS,
          e.QUEUE_FAST_ATTEMPTS,
          e.QUEUE_FAST_BACKOFF_MS,
        ),
        default: lane(
          e.QUEUE_DEFAULT_CONCURRENCY,
          e.QUEUE_DEFAULT_TIME_LIMIT_MS,
          e.QUEUE_DEFAULT_ATTEMPTS,
          e.QUEUE_DEFAULT_BACKOFF_MS,
        ),
        slow: lane(
          e.QUEUE_SLOW_CONCURRENCY,
          e.QUEUE_SLOW_TIME_LIMIT_MS,
          e.QUEUE_SLOW_ATTEMPTS,
          e.QUEUE_SLOW_BACKOFF_MS,
        ),
        priority: lane(
          e.QUEUE_PRIORITY_CONCURRENCY,
          e.QUEUE_PRIORITY_TIME_LIMIT_MS,
          e.QUEUE_PRIORITY_ATTEMPTS,
          e.QUEUE_PRIORITY_BACKOFF_MS,
        ),
      },
      leaseMs: e.QUEUE_LEASE_MS,
      stalledCheckMs: e.QUEUE_STALLED_CHECK_MS,
      maxStalledCount: e.QUEUE_MAX_STALLED_COUNT,
      metricsIntervalMs: e.QUEUE_METRICS_INTERVAL_MS,
      enqueueTimeoutMs: e.QUEUE_ENQUEUE_TIMEOUT_MS,
      deferMaxMs: e.QUEUE_DEFER_MAX_MS,
    },
    worker: { lanes: e.WORKER_QUEUES, port: e.WORKER_PORT, drainTimeoutMs: e.WORKER_DRAIN_TIMEOUT_MS },
    mail: { smtpUrl: e.SMTP_URL || undefined, from: e.MAIL_FROM, outboxDir: e.MAIL_OUTBOX_DIR },
    jobs: {
      mediaRetentionDays: e.MEDIA_RETENTION_DAYS,
      mediaPurgeEveryMs: e.MEDIA_PURGE_EVERY_MS,
      cacheWarmEveryMs: e.CACHE_WARM_EVERY_MS,
      strandedAfterMs: e.QUEUE_STRANDED_AFTER_MS,
      cacheWarmTopN: e.CACHE_WARM_TOP_N,
    },
    batches: { maxImages: e.BATCH_MAX_IMAGES, maxRequestBytes: e.BATCH_MAX_REQUEST_BYTES },
  };
}
