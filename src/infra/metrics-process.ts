import { collectDefaultMetrics, Gauge, type Registry } from "prom-client";

/*
 * prom-client's default metrics, checked one by one under Bun 1.4 (each value compared with /proc, bun:jsc
 * heapStats() and a deliberately blocked event loop).
 *
 * Kept (sensible values):
 *   process_cpu_user_seconds_total, process_cpu_system_seconds_total, process_cpu_seconds_total,
 *   process_start_time_seconds, process_resident_memory_bytes, process_open_fds, process_max_fds,
 *   nodejs_eventloop_lag_seconds and its _min/_max/_mean/_stddev/_p50/_p90/_p99 gauges (a 300 ms block shows
 *   as ~0.3 s max), nodejs_heap_size_used_bytes (= JSC heapSize), nodejs_external_memory_bytes (= JSC extra
 *   memory). prom-client updates these two only from the collect() of nodejs_heap_size_total_bytes, which is
 *   dropped, so they are re-registered below with their own collect().
 *
 * Dropped (nonsense under Bun):
 *   nodejs_gc_duration_seconds                          always empty (no GC performance entries)
 *   nodejs_active_handles(_total), nodejs_active_requests(_total), nodejs_active_resources(_total)
 *                                                       always 0 / empty; the three _total gauges are also
 *                                                       the names `promtool check metrics` rejects
 *   nodejs_heap_size_total_bytes                        smaller than the heap in use (not JSC's capacity)
 *   nodejs_heap_space_size_{total,used,available}_bytes V8 heap spaces: all 0 except a made-up "old"
 *   process_heap_bytes, process_virtual_memory_bytes    ~6.5 GB from the first second: JSC's address-space
 *                                                       reservations, not memory in use
 *   nodejs_version_info                                 reports Bun's Node.js compatibility version, not Bun's
 */
export const DROPPED_DEFAULT_METRICS = [
  "nodejs_gc_duration_seconds",
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
  "nodejs_heap_size_total_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_external_memory_bytes",
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
  "process_heap_bytes",
  "process_virtual_memory_bytes",
  "nodejs_version_info",
] as const;

/** Registers the default process metrics that report real values under Bun (see above). */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  new Gauge({
    name: "nodejs_heap_size_used_bytes",
    help: "JavaScript heap in use (JavaScriptCore heap size under Bun), in bytes.",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: "nodejs_external_memory_bytes",
    help: "Memory held outside the JavaScript heap by JavaScript objects (buffers and the like), in bytes.",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().external);
    },
  });
}
