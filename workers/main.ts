/**
 * A worker process: consumes the lanes named in WORKER_QUEUES (e.g. `fast`, or `slow,default`), serves
 * /healthz and /metrics on WORKER_PORT, and on SIGTERM stops taking jobs, lets running ones finish until
 * WORKER_DRAIN_TIMEOUT_MS, hands the rest back to their lane (no attempt spent) and exits 0.
 */
import { loadConfig } from "../src/config/index.ts";
import { startMetricsServer } from "../src/http/metrics-server.ts";
import { laneDepthReader, registerQueueDepthCollector } from "../src/infra/queue-depth.ts";
import { runMain } from "../src/run-main.ts";
import { jobs } from "./jobs/index.ts";
import { type LaneWorker, startLaneWorker } from "./lane-worker.ts";
import { startGroupRepair } from "./queue-repair.ts";
import { startScheduler } from "./scheduler.ts";
import { buildWorkerDeps } from "./worker-deps.ts";

async function start(): Promise<void> {
  const config = loadConfig();
  const deps = await buildWorkerDeps(config);
  const { logger } = deps;
  const lanes = config.worker.lanes;

  const workers: LaneWorker[] = lanes.map((lane) => startLaneWorker(deps, lane, jobs));
  const repair = startGroupRepair(deps, lanes);
  // queue_depth{lane,state} for this process's lanes, read at scrape time (counts scan every group: cached).
  registerQueueDepthCollector(deps.metrics, laneDepthReader(deps.queues, lanes), {
    cacheMs: config.queues.metricsIntervalMs,
  });
  const scheduler = lanes.includes("slow") ? startScheduler(deps) : undefined;
  let draining = false;

  const server = startMetricsServer({
    registry: deps.metrics.registry,
    port: config.worker.port,
    hostname: config.host,
    logger,
    routes: {
      "/healthz": async () => {
        // Not just "is the socket open": the lanes' scripts must run and a write must be taken (a restarted Redis
        // without its scripts, or a demoted master, fails this), within the readiness deadline.
        const queue = await deps.queues.canary(config.http.readyCheckTimeoutMs).then(
          () => "up" as const,
          () => "down" as const,
        );
        const ok = !draining && queue === "up";
        const running = Object.fromEntries(workers.map((w) => [w.lane, w.running()]));
        return Response.json(
          {
            status: ok ? "ok" : draining ? "draining" : "degraded",
            lanes,
            running,
            redis: deps.queues.redis.status,
            queue,
          },
          { status: ok ? 200 : 503 },
        );
      },
    },
  });
  logger.info({ lanes, healthz: `${server.url}/healthz`, pid: process.pid }, "worker ready");

  async function shutdown(signal: string) {
    if (draining) return;
    draining = true;
    const deadlineAt = Date.now() + config.worker.drainTimeoutMs;
    // Whatever hangs (a connection that never closes), the process must still end before the platform kills it.
    setTimeout(() => {
      logger.error("shutdown passed its deadline; exiting");
      process.exit(1);
    }, config.worker.drainTimeoutMs + 5_000);
    logger.info({ signal, drainTimeoutMs: config.worker.drainTimeoutMs }, "worker draining");
    scheduler?.stop();
    repair.stop();
    deps.queues.quiet();
    const results = await Promise.all(workers.map((w) => w.drain(deadlineAt)));
    const released = results.reduce((n, r) => n + r.released, 0);
    await server.stop();
    await deps.close();
    logger.info({ released }, "worker stopped");
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

runMain(start);
