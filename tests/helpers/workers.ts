/**
 * Real worker processes (`bun workers/main.ts`) for end-to-end tests: same databases, Redis and key prefix
 * (so the same queue namespace) as the test app that enqueues, short leases so crashes are noticed quickly.
 */
import { parseConfig } from "../../src/config/index.ts";
import { groupmqNamespace } from "../../src/infra/groupmq-keys.ts";
import type { Lane } from "../../src/infra/queues.ts";
import type { WorkerDeps } from "../../workers/job-types.ts";
import { buildWorkerDeps } from "../../workers/worker-deps.ts";
import type { TestApp } from "./app.ts";
import { testEnv } from "./env.ts";
import { type ChildProcess, spawnBun } from "./process.ts";

export type { LogLine } from "./process.ts";

export type WorkerProcess = ChildProcess & { readonly healthUrl: string };

/** The environment a worker needs to share the test app's world. */
export function workerEnv(
  app: TestApp,
  lanes: readonly Lane[],
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: "test",
    DATABASE_URL: testEnv.databaseUrl,
    DATABASE_REPLICA_URL: testEnv.replicaUrl,
    REDIS_URL: testEnv.redisUrl,
    REDIS_KEY_PREFIX: app.config.redis.keyPrefix,
    LOG_LEVEL: "info",
    WORKER_QUEUES: lanes.join(","),
    WORKER_PORT: "0",
    HOST: "127.0.0.1",
    // Long enough that heartbeats starved by a loaded machine do not let the lease lapse under a live worker
    // (1.5 s did at load average 20, 3 s at 28: the job was handed out twice). Crash tests set a short one.
    QUEUE_LEASE_MS: "10000",
    QUEUE_STALLED_CHECK_MS: "250",
    QUEUE_METRICS_INTERVAL_MS: "1000",
    QUEUE_FAST_BACKOFF_MS: "50",
    QUEUE_DEFAULT_BACKOFF_MS: "50",
    QUEUE_SLOW_BACKOFF_MS: "50",
    QUEUE_PRIORITY_BACKOFF_MS: "50",
    WORKER_DRAIN_TIMEOUT_MS: "5000",
    // Tests share one database: on a slow run other files' queued rows pass the 2-minute bound and a slow-lane
    // worker would sweep them into this test's lanes. The sweep has its own test (stranded.test.ts).
    QUEUE_STRANDED_AFTER_MS: "86400000",
    METRICS_PORT: "0",
    ...extra,
  };
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawnBun("workers/main.ts", env);
  const ready = await child
    .waitForLine((l) => l.message === "worker ready", "the worker to be ready", 45_000)
    .catch((err: unknown) => {
      child.kill("SIGKILL"); // never leave a half-started worker behind
      throw err;
    });
  // A draining worker may take its whole drain budget before it exits.
  return { ...child, healthUrl: String(ready.healthz), stop: () => child.stop(15_000) };
}

/** Worker deps in this process (for in-process lane workers and direct job runs), on the test app's key space. */
export async function inProcessWorkerDeps(
  app: TestApp,
  extra: Record<string, string> = {},
): Promise<WorkerDeps> {
  const config = parseConfig({ ...workerEnv(app, ["fast"]), LOG_LEVEL: "silent", ...extra });
  return buildWorkerDeps(config);
}

/** Removes the test's groupmq keys (the app's own close() removes only `<prefix>*`). */
export async function removeQueueKeys(app: TestApp | undefined): Promise<void> {
  if (!app) return; // beforeAll failed: nothing was made
  const redis = app.deps.queues.redis;
  const keys = await redis.keys(`${groupmqNamespace(app.config.redis.keyPrefix)}*`);
  if (keys.length) await redis.del(...keys);
}
