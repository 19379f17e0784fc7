import { Histogram, type Registry } from "prom-client";
import { perRegistry } from "./per-registry.ts";

export type IdentificationMetrics = ReturnType<typeof build>;

/**
 * How long a user waits for an identification's result, registered once per process registry (the API
 * observes synchronous ones, the workers queued ones). The roadmap's target is p95 under 3 s (alert
 * SlowIdentifications), hence the buckets around 3 s.
 */
export const identificationMetrics: (registry: Registry) => IdentificationMetrics = perRegistry(build);

function build(registry: Registry) {
  return {
    duration: new Histogram({
      name: "identification_duration_seconds",
      help:
        "Time to an identification's result: the request for mode=sync, creation to completion (queue wait " +
        "included) for mode=async. Completed identifications only.",
      labelNames: ["mode"] as const,
      buckets: [0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20, 30, 60, 120],
      registers: [registry],
    }),
  };
}
