import { Counter, Histogram, type Registry } from "prom-client";
import { perRegistry } from "../infra/per-registry.ts";

export type GraphqlMetrics = ReturnType<typeof build>;

/** Registered once per registry (tests build several apps on one process registry). */
export const graphqlMetrics: (registry: Registry) => GraphqlMetrics = perRegistry(build);

function build(registry: Registry) {
  return {
    operations: new Counter({
      name: "graphql_operations_total",
      help: "GraphQL operations executed, by operation name (capped: see operationLabel) and type.",
      labelNames: ["operation", "type"] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: "graphql_operation_duration_seconds",
      help: "Execution time of GraphQL queries and mutations (subscriptions: until the stream starts).",
      labelNames: ["operation", "type"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    errors: new Counter({
      name: "graphql_errors_total",
      help: "Errors in GraphQL answers, by our stable error code (extensions.code).",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    cost: new Histogram({
      name: "graphql_operation_cost",
      help: "Computed cost of each GraphQL operation (see src/graphql/cost.ts); the budget is GRAPHQL_MAX_COST.",
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
  };
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_NAMES = 200;

/**
 * Operation names are chosen by clients: a bounded set of well-formed names gets its own series, anything past
 * it is counted as `other`, so a client cannot grow the metrics without bound.
 */
export function operationLabeler() {
  const known = new Set<string>();
  return (name: string | undefined | null): string => {
    if (!name) return "anonymous";
    if (!NAME.test(name)) return "other";
    if (known.has(name)) return name;
    if (known.size >= MAX_NAMES) return "other";
    known.add(name);
    return name;
  };
}
