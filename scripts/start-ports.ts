/**
 * The ports `npm start` (scripts/start.ts) gives its worker processes, one per lane, each serving /metrics and
 * /healthz. ops/prometheus/prometheus.yml scrapes exactly these (tests/observability/ops-files.test.ts checks).
 */
export const START_WORKER_LANES = ["fast", "default", "slow", "priority"] as const;
export const START_WORKER_PORT_BASE = 9101;
