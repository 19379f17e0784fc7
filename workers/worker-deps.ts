import pino from "pino";
import type { Config } from "../src/config/index.ts";
import { buildDeps } from "../src/deps.ts";
import { createLogger } from "../src/infra/logger.ts";
import { createMailer } from "../src/infra/mailer.ts";
import { buildServices } from "../src/services.ts";
import type { WorkerDeps } from "./job-types.ts";

/** The same deps and services as the API (database, Redis by role, queues, storage, providers) plus the mailer. */
export async function buildWorkerDeps(config: Config): Promise<WorkerDeps> {
  const deps = await buildDeps(config, {
    application: `plant-community-worker:${config.worker.lanes.join(",")}`,
    // Written synchronously: a worker's last lines (drained, released jobs) come right before process.exit.
    logger: createLogger(config.logLevel, pino.destination({ dest: 1, sync: true })),
    // A job's follow-up enqueue (its notification) waits out a Redis restart or failover instead of being lost.
    enqueueWaitsMs: 30_000,
  });
  const mailer = createMailer(config.mail);
  return {
    ...deps,
    mailer,
    services: buildServices(deps),
    async close() {
      mailer.close();
      await deps.close();
    },
  };
}
