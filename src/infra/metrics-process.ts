/// <reference path="./prom-client-collectors.d.ts" />
// (The reference brings the collectors' declaration into every compilation that reaches this file, the SDK's
// strict check included, not only those whose include globs cover src/.)
import { Gauge, type Registry } from "prom-client";
import eventLoopLag from "prom-client/lib/metrics/eventLoopLag.js";
import osMemoryHeap from "prom-client/lib/metrics/osMemoryHeap.js";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal.js";
import processMaxFileDescriptors from "prom-client/lib/metrics/processMaxFileDescriptors.js";
import processOpenFileDescriptors from "prom-client/lib/metrics/processOpenFileDescriptors.js";
import processStartTime from "prom-client/lib/metrics/processStartTime.js";

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

/*
 * The collectors behind the kept metrics, each registered on its own, in collectDefaultMetrics's order (so the
 * exposition is unchanged), instead of collectDefaultMetrics() and then removing the dropped families: its
 * nodejs_heap_space_* collector calls v8.getHeapSpaceStatistics() once at registration, which Bun answers with
 * a walk of the whole heap (~15 ms of the API's ~300 ms start, issue #17), for three families we then drop;
 * the gc one starts a PerformanceObserver that never sees an entry. osMemoryHeap also registers
 * process_heap_bytes and process_virtual_memory_bytes on Linux, dropped below as before.
 * tests/observability/process-metrics.test.ts checks the result against collectDefaultMetrics() minus the
 * dropped list, so a prom-client upgrade that adds or moves a default metric fails there.
 */
const KEPT_DEFAULT_COLLECTORS = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  eventLoopLag,
];
/** collectDefaultMetrics's own default (prom-client/lib/defaultMetrics.js). */
const DEFAULT_METRICS_CONFIG = { eventLoopMonitoringPrecision: 10 };

/** Registers the default process metrics that report real values under Bun (see above). */
export function registerProcessMetrics(registry: Registry): void {
  for (const register of KEPT_DEFAULT_COLLECTORS) register(registry, DEFAULT_METRICS_CONFIG);
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
