import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { modelMetrics } from "../modules/models/variant-metrics.ts";
import { registerProcessMetrics } from "./metrics-process.ts";
import { queueMetrics } from "./queue-metrics.ts";

export type Metrics = ReturnType<typeof createMetrics>;

export const QUEUE_STATES = ["waiting", "active", "delayed", "failed"] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
/** lane -> state -> job count; a state left out counts as 0. */
export type QueueDepths = Record<string, Partial<Record<QueueState, number>>>;

/** Readers run at scrape time (set by active-users.ts and queue-depth.ts); unset = the gauge stays empty. */
export type ScrapeSources = {
  activeUsers?: () => Promise<number>;
  queueDepths?: () => Promise<QueueDepths>;
};

export function createMetrics() {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const sources: ScrapeSources = {};
  const sourceErrors = new Counter({
    name: "metrics_source_errors_total",
    help: "Scrape-time reads (active_users from Redis, queue_depth from the queues) that failed.",
    labelNames: ["source"] as const,
    registers: [registry],
  });
  return {
    registry,
    sources,
    sourceErrors,
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
    replicaLagBoundSeconds: new Gauge({
      name: "db_replica_lag_bound_seconds",
      help: "Lag past which reads skip the replica (REPLICA_MAX_LAG_MS); the replica-lag alert compares against it.",
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
    cacheStaleFills: new Counter({
      name: "cache_stale_fills_total",
      help: "Fills not stored because one of their tags was invalidated while they loaded (issue #19).",
      labelNames: ["cache"] as const,
      registers: [registry],
    }),
    cacheErrors: new Counter({
      name: "cache_errors_total",
      help: "Cache operations that failed (Redis unreachable); the load went ahead uncached.",
      labelNames: ["cache"] as const,
      registers: [registry],
    }),
    // Providers: one family for Plant.id, Plant.id health and PlantNet instead of plant_id_api_* per provider.
    providerCalls: new Counter({
      name: "provider_calls_total",
      help: "Calls to identification providers by provider (plant-id, plant-id-health, plantnet) and outcome: success, or the error kind timeout, network, http, invalid_response, error (unclassified), rejected (breaker open, no request sent). Errors = outcome != success.",
      labelNames: ["provider", "outcome"] as const,
      registers: [registry],
    }),
    providerDuration: new Histogram({
      name: "provider_call_duration_seconds",
      help: "Duration of provider calls that were sent (any outcome except rejected), by provider.",
      labelNames: ["provider"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30],
      registers: [registry],
    }),
    providerStallThreshold: new Gauge({
      name: "provider_stall_threshold_seconds",
      help: "How long a provider may leave a call unanswered before synchronous identifications stop waiting for it (503 + Retry-After): 3x its recent p95 latency, at least 1 s, at most IDENTIFY_SYNC_WAIT_MS (provider-pace.ts).",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    identifications: new Counter({
      name: "identifications_total",
      help: "Plant identifications requested.",
      registers: [registry],
    }),
    identificationsSuccess: new Counter({
      name: "identifications_success_total",
      help: "Plant identifications that completed with a result from at least one provider.",
      registers: [registry],
    }),
    activeUsers: new Gauge({
      name: "active_users",
      help: "Distinct signed-in users with a request in the last 15 minutes, read from Redis at scrape time (the last reading is kept while Redis cannot be read: see metrics_source_errors_total).",
      registers: [registry],
      async collect() {
        if (!sources.activeUsers) return;
        try {
          this.set(await sources.activeUsers());
        } catch {
          // Keeps the last reading (a gauge without labels cannot be left empty); the error counter tells.
          sourceErrors.inc({ source: "active_users" });
        }
      },
    }),
    dbQueryDuration: new Histogram({
      name: "db_query_duration_seconds",
      help: "Duration of queries sent through Kysely, by target database (primary, replica); failed queries included.",
      labelNames: ["target"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "queue_depth",
      help: "Jobs per lane and state (waiting, active, delayed, failed), read from the queues at scrape time and cached 15-30 s; every process that reads it reports the same numbers: aggregate with max, not sum.",
      labelNames: ["lane", "state"] as const,
      registers: [registry],
      async collect() {
        if (!sources.queueDepths) return;
        try {
          const depths = await sources.queueDepths();
          this.reset();
          for (const [lane, counts] of Object.entries(depths)) {
            for (const state of QUEUE_STATES) this.set({ lane, state }, counts[state] ?? 0);
          }
        } catch {
          this.reset();
          sourceErrors.inc({ source: "queue_depth" });
        }
      },
    }),
    // Job metrics (run time and outcomes by lane and job, enqueues, waits, dead letters) live in
    // queue-metrics.ts with the queues; registered here so every process exports them from the one registry.
    queue: queueMetrics(registry),
    // Experiment metrics labelled by variant (bounded): src/modules/models/variant-metrics.ts.
    models: modelMetrics(registry),
    breakerState: new Gauge({
      name: "circuit_breaker_state",
      help: "Circuit breaker state as this process sees it: 0 closed, 1 half-open, 2 open.",
      labelNames: ["breaker"] as const,
      registers: [registry],
    }),
    breakerTransitions: new Counter({
      name: "circuit_breaker_transitions_total",
      help: "State changes made by this process (changes learned from other instances are not counted again).",
      labelNames: ["breaker", "from", "to"] as const,
      registers: [registry],
    }),
    breakerCalls: new Counter({
      name: "circuit_breaker_calls_total",
      help: "Calls through a circuit breaker other than a provider's (e.g. redis) by result: success, failure, rejected (breaker open or probes busy). Provider calls are counted once, in provider_calls_total.",
      labelNames: ["breaker", "result"] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "rate_limited_total",
      help: "Requests refused by a rate limit, by policy.",
      labelNames: ["policy"] as const,
      registers: [registry],
    }),
    rateLimitErrors: new Counter({
      name: "rate_limit_errors_total",
      help: "Rate-limit checks that could not reach Redis (the request was let through unless the policy fails closed).",
      labelNames: ["policy"] as const,
      registers: [registry],
    }),
    // Label values are bounded: directive is one of CSP_DIRECTIVES (anything else counts as "other").
    cspViolations: new Counter({
      name: "csp_violations_total",
      help: "Content-Security-Policy violations reported by browsers, by directive.",
      labelNames: ["directive"] as const,
      registers: [registry],
    }),
    cspNewTypes: new Counter({
      name: "csp_violation_new_types_total",
      help: "CSP violation types (directive + blocked origin) reported for the first time ever, by directive.",
      labelNames: ["directive"] as const,
      registers: [registry],
    }),
    cspReports: new Counter({
      name: "csp_reports_total",
      help: "CSP report requests accepted, by format (csp-report = report-uri, reports+json = Reporting API).",
      labelNames: ["format"] as const,
      registers: [registry],
    }),
    legacyRequests: new Counter({
      name: "legacy_requests_total",
      help: "Requests to the paths old app builds call (served in place until LEGACY_SUNSET), by route.",
      labelNames: ["route"] as const,
      registers: [registry],
    }),
  };
}
