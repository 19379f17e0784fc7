import type { Registry } from "prom-client";

/**
 * Metric families built once per registry (prom-client refuses a second family of the same name, and tests build
 * several apps on one process registry): the returned function answers the same families for the same registry.
 */
export function perRegistry<T>(build: (registry: Registry) => T): (registry: Registry) => T {
  const built = new WeakMap<Registry, T>();
  return (registry) => {
    let metrics = built.get(registry);
    if (metrics === undefined) {
      metrics = build(registry);
      built.set(registry, metrics);
    }
    return metrics;
  };
}
