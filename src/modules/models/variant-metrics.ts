import { Counter, Histogram, type Registry } from "prom-client";

/** Distinct variant labels one process exports at most; later ones count as "other" (bounded cardinality). */
export const MAX_VARIANT_LABELS = 20;
const seen = new Set<string>();

/** The `variant` label: the variant key, "none" outside experiments, "other" past the cap. */
export function variantLabel(variant: string | null | undefined): string {
  if (!variant) return "none";
  if (seen.has(variant)) return variant;
  if (seen.size >= MAX_VARIANT_LABELS) return "other";
  seen.add(variant);
  return variant;
}

/** Registered with the process's registry by createMetrics (src/infra/metrics.ts). */
export function modelMetrics(registry: Registry) {
  return {
    identifications: new Counter({
      name: "experiment_identifications_total",
      help: "Completed identifications by experiment variant (variant key; none outside experiments; other past 20 keys).",
      labelNames: ["variant"] as const,
      registers: [registry],
    }),
    topConfidence: new Histogram({
      name: "experiment_top_confidence",
      help: "Confidence of the top suggestion shown, by experiment variant.",
      labelNames: ["variant"] as const,
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
      registers: [registry],
    }),
    calls: new Counter({
      name: "experiment_model_calls_total",
      help: "Model calls made for identifications by experiment variant, role (answer, health, shadow) and outcome (ok, no_match, failed, skipped, circuit_open). Timing and errors per provider are in provider_calls_total.",
      labelNames: ["variant", "role", "outcome"] as const,
      registers: [registry],
    }),
    feedback: new Counter({
      name: "experiment_feedback_total",
      help: "User feedback on identifications by experiment variant and verdict (correct true/false).",
      labelNames: ["variant", "correct"] as const,
      registers: [registry],
    }),
  };
}

export type ModelMetrics = ReturnType<typeof modelMetrics>;
