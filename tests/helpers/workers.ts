/**
 * Real worker processes (`bun workers/main.ts`) for end-to-end tests: same databases, Redis and key prefix
 * (so the same queue namespace) as the test app that enqueues, short leases so crashes are noticed quickly.
 */
import { dirname } from "node:path";
import { parseConfig } from "../../src/config.ts";
import type { Lane } from "../../src/infra/queues.ts";
import type { WorkerDeps } from "../../workers/job-types.ts";
import { buildWorkerDeps } from "../../workers/worker-deps.ts";
import type { TestApp } from "./app.ts";
import { testEnv } from "./env.ts";

const ROOT = dirname(dirname(import.meta.dir));

export type LogLine = Record<string, unknown> & { message?: string; level?: string };

export type WorkerProcess = {
  readonly pid: number;
  readonly lines: LogLine[];
  readonly healthUrl: string;
  readonly exited: Promise<number | null>;
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** The first log line (seen or future) that matches; rejects when the process exits first or at the deadline. */
  waitForLine(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL after a deadline; safe to call when it already exited. */
  stop(): Promise<void>;
  output(): string;
};

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
    QUEUE_LEASE_MS: "1500",
    QUEUE_STALLED_CHECK_MS: "250",
    QUEUE_METRICS_INTERVAL_MS: "1000",
    QUEUE_FAST_BACKOFF_MS: "50",
    QUEUE_DEFAULT_BACKOFF_MS: "50",
    QUEUE_SLOW_BACKOFF_MS: "50",
    QUEUE_PRIORITY_BACKOFF_MS: "50",
    WORKER_DRAIN_TIMEOUT_MS: "5000",
    METRICS_PORT: "0",
    ...extra,
  };
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const proc = Bun.spawn([process.execPath, "workers/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        raw.push(text);
        try {
          lines.push(JSON.parse(text) as LogLine);
        } catch {
          // a stack trace or a runtime warning: kept in `raw` for failure messages
        }
      }
      notify();
    }
  };
  let ended = false;
  // "Exited" once the process is gone and its output is read to the end, so no last line is missed.
  const exited = Promise.all([
    pump(proc.stdout as ReadableStream<Uint8Array>),
    pump(proc.stderr as ReadableStream<Uint8Array>),
    proc.exited,
  ]).then(() => {
    ended = true;
    notify();
    return proc.exitCode;
  });

  const waitForLine = (match: (line: LogLine) => boolean, what: string, timeoutMs = 15_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const finish = (err?: Error, line?: LogLine) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) reject(err);
        else resolve(line as LogLine);
      };
      const check = () => {
        const found = lines.find(match);
        if (found) return finish(undefined, found);
        if (ended) {
          finish(
            new Error(
              `worker exited (${proc.exitCode ?? proc.signalCode}) before ${what}:\n${raw.slice(-30).join("\n")}`,
            ),
          );
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for ${what}:\n${raw.slice(-30).join("\n")}`)),
        timeoutMs,
      );
      waiters.add(check);
      check();
    });

  const ready = await waitForLine(
    (l) => l.message === "worker ready",
    "the worker to be ready",
    20_000,
  ).catch((err: unknown) => {
    proc.kill("SIGKILL"); // never leave a half-started worker behind
    throw err;
  });
  const worker: WorkerProcess = {
    pid: proc.pid,
    lines,
    healthUrl: String(ready.healthz),
    exited,
    kill: (signal) => proc.kill(signal),
    waitForLine,
    output: () => raw.join("\n"),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
      if (!done) {
        proc.kill("SIGKILL");
        await exited;
      }
    },
  };
  return worker;
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
  const keys = await redis.keys(`groupmq:${app.config.redis.keyPrefix}*`);
  if (keys.length) await redis.del(...keys);
}
