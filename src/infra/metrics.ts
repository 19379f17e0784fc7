import { Counter, Gauge, Histogram, Registry } from "prom-client";

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by route pattern and status.",
      labelNames: ["method", "route", "status"] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by route pattern.",
      labelNames: ["method", "route"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    httpInFlight: new Gauge({
      name: "http_requests_in_flight",
      help: "HTTP requests being served.",
      registers: [registry],
    }),
    replicaFallbacks: new Counter({
      name: "db_replica_fallbacks_total",
      help: "Reads sent to the primary because the replica was down or lagging.",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    replicaLagSeconds: new Gauge({
      name: "db_replica_lag_seconds",
      help: "Estimated replication lag of the read replica.",
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: "cache_hits_total",
      help: "Cache lookups answered from Redis.",
      labelNames: ["cache"] as const,
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: "cache_misses_total",
      help: "Cache lookups that had to load.",
      labelNames: ["cache"] as const,
      registers: [registry],
    }),
    cacheLockWaits: new Counter({
      name: "cache_lock_waits_total",
      help: "Loads that waited for another caller holding the fill lock.",
      labelNames: ["cache"] as const,
      registers: [registry],
    }),
    cacheLockTimeouts: new Counter({
      name: "cache_lock_timeouts_total",
      help: "Waits for a fill lock that passed their deadline and loaded themselves.",
      labelNames: ["cache"] as const,
      registers: [registry],
    }),
    cacheErrors: new Counter({
      name: "cache_errors_total",
      help: "Cache operations that failed (Redis unreachable); the load went ahead uncached.",
      labelNames: ["cache"] as const,
      registers: [registry],
    }),
  };
}
