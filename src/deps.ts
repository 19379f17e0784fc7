import type { Redis } from "ioredis";
import type { Sql } from "postgres";
import pkg from "../package.json" with { type: "json" };
import type { Config } from "./config/index.ts";
import { closeSql, connectSql, createDb } from "./db/connect.ts";
import { DbGate } from "./db/db-gate.ts";
import { DbRouter } from "./db/read-routing.ts";
import { createLiveEventHub, type LiveEventHub } from "./graphql/live-events.ts";
import { graphqlMetrics } from "./graphql/metrics.ts";
import { watchActiveUsers } from "./infra/active-users.ts";
import { breakerHooks } from "./infra/breaker-metrics.ts";
import { type Cache, createCache } from "./infra/cache.ts";
import { type Clock, systemClock } from "./infra/clock.ts";
import { createErrorTracker, type ErrorTracker } from "./infra/error-tracking.ts";
import { identificationMetrics } from "./infra/identification-metrics.ts";
import { createLogger, type Logger } from "./infra/logger.ts";
import { createMetrics, type Metrics } from "./infra/metrics.ts";
import { breakerGates, createProviderBreakers, type ProviderBreakers } from "./infra/providers/breakers.ts";
import type { ProviderGates } from "./infra/providers/provider-gate.ts";
import { meteredGates } from "./infra/providers/provider-metrics.ts";
import { createProviders, type Providers } from "./infra/providers/providers.ts";
import { createUserProviderBudget, userBudgetGates } from "./infra/providers/user-budget.ts";
import { createLaneQueues, type LaneQueues } from "./infra/queues.ts";
import { closeRedis, createRedis } from "./infra/redis.ts";
import { guardRedis, type RedisGuard } from "./infra/redis-guard.ts";
import { type BlobStore, createBlobStore } from "./infra/storage/index.ts";
import { instrumentedBlobStore } from "./infra/storage/instrumented.ts";
import { traceRedis } from "./infra/tracing/traced-redis.ts";
import { createTracing, type Tracing } from "./infra/tracing/tracing.ts";

export type Deps = {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  db: DbRouter;
  /** `cache` is the request path's client, behind `redisGuard`'s breaker (src/infra/redis-guard.ts). */
  redis: { cache: Redis };
  redisGuard: RedisGuard;
  cache: Cache;
  /** groupmq producers for the four lanes (src/infra/queues.ts), on their own Redis connection. */
  queues: LaneQueues;
  /** Uploaded images (local directory or S3). */
  storage: BlobStore;
  /** One fleet-wide circuit breaker per provider; the provider gates are these. */
  breakers: ProviderBreakers;
  /** Plant.id and PlantNet, each call through its gate (circuit breaker), with cache and quotas. */
  providers: Providers;
  /** Spans over OTLP (tracer undefined when off) and unexpected errors to Sentry (src/infra/tracing/). */
  telemetry: { tracing: Tracing; errors: ErrorTracker };
  /** Releases every connection; safe to call once at shutdown. */
  close(): Promise<void>;
  /** Redis pub/sub behind GraphQL subscriptions (one subscriber connection, opened at the first subscription). */
  liveEvents: LiveEventHub;
  /** Set on SIGTERM: /health answers 503 so the proxy stops routing here while in-flight requests finish. */
  lifecycle: { draining: boolean };
};

export type DepsOverrides = Partial<Pick<Deps, "logger" | "clock" | "metrics">> & {
  application?: string;
  providerGates?: ProviderGates;
  storage?: BlobStore;
  /** Workers: enqueues wait this long for Redis instead of failing at once (see createLaneQueues). */
  enqueueWaitsMs?: number;
};

/** Everything the app and workers need, built once at start-up and passed in, so tests can build their own. */
export async function buildDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const logger =
    overrides.logger ??
    createLogger(config.logLevel, undefined, {
      bufferBytes: config.reads.logBufferBytes,
      flushIntervalMs: config.reads.logFlushIntervalMs,
    });
  const metrics = overrides.metrics ?? createMetrics();
  const clock = overrides.clock ?? systemClock;
  const application = overrides.application ?? "plant-community-api";
  const serviceName = application.split(":")[0] ?? application;
  const telemetry = {
    tracing: await createTracing(
      config.tracing,
      { name: serviceName, version: pkg.version, environment: config.env },
      logger,
    ),
    errors: createErrorTracker(config.errorTracking, application, logger),
  };
  const traced = telemetry.tracing.tracer !== undefined;
  // Registered at start, so /metrics names the family before the first identification (alerts query it).
  identificationMetrics(metrics.registry);
  graphqlMetrics(metrics.registry);

  const connectOptions = {
    max: config.db.poolMax,
    application,
    connectTimeoutMs: config.db.connectTimeoutMs,
    reconnectMaxMs: config.db.reconnectMaxMs,
    serverDeadlines: config.db.deadlines,
  };
  const primarySql = connectSql(config.db.primaryUrl, connectOptions);
  const replicaSql: Sql | undefined = config.db.replicaUrl
    ? connectSql(config.db.replicaUrl, connectOptions)
    : undefined;
  const gateFor = (name: "primary" | "replica") =>
    new DbGate(name, config.db.probeIntervalMs, Date.now, (down, err) =>
      down
        ? logger.error(
            { database: name, err: String(err) },
            "database unreachable: failing fast until a probe succeeds",
          )
        : logger.info({ database: name }, "database reachable again"),
    );
  const primaryGate = gateFor("primary");
  const replicaGate = replicaSql ? gateFor("replica") : undefined;
  const cacheRedis = createRedis(config.redis, "cache");
  cacheRedis.on("error", (err) => logger.warn({ err: err.message }, "redis cache connection error"));
  if (traced) traceRedis(cacheRedis, "cache");
  // Real time, not the injected clock: the probe interval is about a real outage.
  const redisGuard = guardRedis(cacheRedis, {
    settings: config.redis.breaker,
    commandTimeoutMs: config.redis.commandTimeoutMs,
    hooks: breakerHooks(metrics, logger, ["redis"]),
  });
  watchActiveUsers(metrics, cacheRedis, config.redis.keyPrefix, () => clock.now());
  if (config.db.replicaUrl) metrics.replicaLagBoundSeconds.set(config.db.replicaMaxLagMs / 1000);

  const db = new DbRouter(
    {
      primary: createDb(primarySql, {
        timing: { metrics, target: "primary" },
        deadlines: config.db.deadlines,
        gate: primaryGate,
        traced,
      }),
      replica: replicaSql
        ? createDb(replicaSql, {
            timing: { metrics, target: "replica" },
            deadlines: config.db.deadlines,
            gate: replicaGate,
            traced,
          })
        : undefined,
      primarySql,
      replicaSql,
      primaryGate,
      replicaGate,
    },
    cacheRedis,
    {
      windowMs: config.db.readAfterWriteWindowMs,
      maxLagMs: config.db.replicaMaxLagMs,
      intervalMs: config.db.replicaHealthIntervalMs,
      keyPrefix: config.redis.keyPrefix,
      positionTimeoutMs: config.db.deadlines.statementMs,
      acquireMs: config.db.deadlines.acquireMs,
    },
    logger,
    metrics,
  );
  db.start();
  const queues = createLaneQueues(config, logger, { waitThroughOutagesMs: overrides.enqueueWaitsMs });
  const cache = createCache(cacheRedis, config.redis.keyPrefix, metrics);
  const breakerSubscriber = createRedis(config.redis, "subscriber");
  breakerSubscriber.on("error", (err) =>
    logger.warn({ err: err.message }, "redis subscriber connection error"),
  );
  const breakers = createProviderBreakers({
    config,
    redis: cacheRedis,
    subscriber: breakerSubscriber,
    clock,
    logger,
    metrics,
  });
  const providerGates = overrides.providerGates ?? breakerGates(breakers);
  const liveEvents = createLiveEventHub(config.redis, logger);

  let closed = false;
  return {
    config,
    logger,
    metrics,
    clock,
    db,
    redis: { cache: cacheRedis },
    redisGuard,
    cache,
    queues,
    // Objects and bytes written/deleted per prefix, whichever store (tests may pass their own).
    storage: instrumentedBlobStore(overrides.storage ?? createBlobStore(config, logger), metrics.registry),
    breakers,
    providers: createProviders({
      config,
      cache,
      redis: cacheRedis,
      // Each admitted call also counts against the user it is made for (per-user daily budget).
      gates: userBudgetGates(
        meteredGates(metrics, providerGates),
        createUserProviderBudget({
          redis: cacheRedis,
          keyPrefix: config.redis.keyPrefix,
          now: () => clock.now(),
          logger,
        }),
      ),
      clock,
      logger,
      onSyncWait: (provider, ms) => metrics.providerStallThreshold.set({ provider }, ms / 1000),
      // Shadow calls (experiments) never probe a provider that is not healthy.
      shadowAllowed: (provider) => breakers[provider].snapshot().state === "closed",
    }),
    lifecycle: { draining: false },
    liveEvents,
    telemetry,
    async close() {
      if (closed) return;
      closed = true;
      db.stop();
      await breakers.close();
      await Promise.all([
        closeSql(primarySql),
        replicaSql ? closeSql(replicaSql) : undefined,
        closeRedis(cacheRedis),
        closeRedis(breakerSubscriber),
        liveEvents.close(),
        queues.close(),
        telemetry.tracing.shutdown(),
        telemetry.errors.flush(),
      ]);
      logger.flush?.();
    },
  };
}
