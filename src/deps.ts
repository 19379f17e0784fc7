import type { Redis } from "ioredis";
import type { Sql } from "postgres";
import type { Config } from "./config.ts";
import { closeSql, connectSql, createDb } from "./db/connect.ts";
import { DbRouter } from "./db/read-routing.ts";
import { type Cache, createCache } from "./infra/cache.ts";
import { type Clock, systemClock } from "./infra/clock.ts";
import { createLogger, type Logger } from "./infra/logger.ts";
import { createMetrics, type Metrics } from "./infra/metrics.ts";
import { closeRedis, createRedis } from "./infra/redis.ts";

export type Deps = {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  db: DbRouter;
  redis: { cache: Redis };
  cache: Cache;
  /** Releases every connection; safe to call once at shutdown. */
  close(): Promise<void>;
};

export type DepsOverrides = Partial<Pick<Deps, "logger" | "clock" | "metrics">> & { application?: string };

/** Everything the app and workers need, built once at start-up and passed in, so tests can build their own. */
export async function buildDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? createMetrics();
  const clock = overrides.clock ?? systemClock;
  const application = overrides.application ?? "plant-community-api";

  const primarySql = connectSql(config.db.primaryUrl, { max: config.db.poolMax, application });
  const replicaSql: Sql | undefined = config.db.replicaUrl
    ? connectSql(config.db.replicaUrl, { max: config.db.poolMax, application })
    : undefined;
  const cacheRedis = createRedis(config.redis, "cache");
  cacheRedis.on("error", (err) => logger.warn({ err: err.message }, "redis cache connection error"));

  const db = new DbRouter(
    {
      primary: createDb(primarySql),
      replica: replicaSql ? createDb(replicaSql) : undefined,
      primarySql,
      replicaSql,
    },
    cacheRedis,
    {
      windowMs: config.db.readAfterWriteWindowMs,
      maxLagMs: config.db.replicaMaxLagMs,
      intervalMs: config.db.replicaHealthIntervalMs,
      keyPrefix: config.redis.keyPrefix,
    },
    logger,
    metrics,
  );
  db.start();

  let closed = false;
  return {
    config,
    logger,
    metrics,
    clock,
    db,
    redis: { cache: cacheRedis },
    cache: createCache(cacheRedis, config.redis.keyPrefix, metrics),
    async close() {
      if (closed) return;
      closed = true;
      db.stop();
      await Promise.all([
        closeSql(primarySql),
        replicaSql ? closeSql(replicaSql) : undefined,
        closeRedis(cacheRedis),
      ]);
      logger.flush?.();
    },
  };
}
