/**
 * prom-client's default-metric collectors, one module each (prom-client/lib/defaultMetrics.js requires them the
 * same way); src/infra/metrics-process.ts registers only the ones it keeps. prom-client types none of them.
 */
declare module "prom-client/lib/metrics/*" {
  import type { Registry } from "prom-client";

  const register: (registry: Registry, config?: { eventLoopMonitoringPrecision?: number }) => void;
  export default register;
}
