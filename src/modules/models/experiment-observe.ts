import type { Metrics } from "../../infra/metrics.ts";
import type { CallRecord } from "../../infra/providers/identify-contract.ts";
import type { Assignment } from "./experiment-plan.ts";
import { variantLabel } from "./variant-metrics.ts";

/** The variant-labelled metrics of one completed identification (its shadow calls count when they finish). */
export function observeIdentification(
  metrics: Metrics,
  assignment: Assignment,
  calls: readonly CallRecord[],
  topConfidence: number | null,
): void {
  const variant = variantLabel(assignment.variant);
  metrics.models.identifications.inc({ variant });
  if (topConfidence !== null) metrics.models.topConfidence.observe({ variant }, topConfidence);
  for (const call of calls) {
    const role = call.wire === "plant-id-health" ? "health" : "answer";
    metrics.models.calls.inc({ variant, role, outcome: call.answer.status });
  }
}
