import { describe, expect, test } from "bun:test";
import { collectDefaultMetrics, Registry } from "prom-client";
import { createMetrics } from "../../src/infra/metrics.ts";
import { DROPPED_DEFAULT_METRICS, registerProcessMetrics } from "../../src/infra/metrics-process.ts";
import { waitFor } from "../helpers/app.ts";
import { metricFamilies } from "./ops-queries.ts";

/**
 * Reads through a full scrape: prom-client sets several default gauges from the collect() of one of them
 * (e.g. all nodejs_eventloop_lag_* from nodejs_eventloop_lag_seconds), so reading one family alone is stale.
 */
async function scrape() {
  const { registry } = createMetrics();
  const read = async () => {
    const text = await registry.metrics();
    return (name: string) => {
      const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
      if (!m) throw new Error(`no sample ${name}`);
      return Number(m[1]);
    };
  };
  return { read };
}

function burn(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // keep the CPU and the event loop busy on purpose
  }
}

describe("process metrics under Bun", () => {
  test("the kept default metrics report plausible values", async () => {
    const { read } = await scrape();
    burn(20);
    const value = await read();
    expect(
      Math.abs(value("process_start_time_seconds") - (Date.now() / 1000 - process.uptime())),
    ).toBeLessThan(5);
    expect(value("process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(value("process_cpu_user_seconds_total")).toBeGreaterThan(0);
    const rss = value("process_resident_memory_bytes");
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    expect(rss).toBeLessThan(4 * 1024 * 1024 * 1024);
    const used = value("nodejs_heap_size_used_bytes");
    expect(used).toBeGreaterThan(1024 * 1024);
    expect(used).toBeLessThan(rss);
    expect(value("nodejs_external_memory_bytes")).toBeGreaterThan(0);
    expect(value("process_open_fds")).toBeGreaterThan(0);
    expect(value("process_max_fds")).toBeGreaterThan(value("process_open_fds"));
  });

  test("the event loop lag gauges see a blocked loop", async () => {
    const { read } = await scrape();
    // Each scrape resets the lag histogram; Bun's monitor needs a moment after it starts, so block and look
    // again until one period has measured the block.
    const seen = await waitFor(
      async () => {
        burn(120);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const max = (await read())("nodejs_eventloop_lag_max_seconds");
        return max > 0.05 ? max : undefined;
      },
      { timeoutMs: 3_000, what: "a blocked event loop to show in nodejs_eventloop_lag_max_seconds" },
    );
    expect(seen).toBeLessThan(5);
  });

  test("the default metrics that report nonsense under Bun are not exported", async () => {
    const { registry } = createMetrics();
    const families = metricFamilies(await registry.metrics());
    const replaced = ["nodejs_heap_size_used_bytes", "nodejs_external_memory_bytes"];
    const dropped = DROPPED_DEFAULT_METRICS.filter((name) => !replaced.includes(name));
    expect(dropped.length).toBeGreaterThanOrEqual(10);
    expect(dropped.filter((name) => families.has(name))).toEqual([]);
    // The two replaced ones are exported by our own gauges.
    expect(replaced.filter((name) => families.get(name) !== "gauge")).toEqual([]);
  });

  test("the families exported are prom-client's defaults minus the dropped ones, in its order, then ours", () => {
    const listed = (registry: Registry) =>
      registry.getMetricsAsArray().map((m) => ({ name: m.name, type: m.type, help: m.help }));
    const reference = new Registry();
    collectDefaultMetrics({ register: reference });
    for (const name of DROPPED_DEFAULT_METRICS) reference.removeSingleMetric(name);
    const ours = new Registry();
    registerProcessMetrics(ours);
    expect(listed(ours).map((m) => m.name)).toEqual([
      ...listed(reference).map((m) => m.name),
      "nodejs_heap_size_used_bytes",
      "nodejs_external_memory_bytes",
    ]);
    expect(listed(ours).slice(0, listed(reference).length)).toEqual(listed(reference));
  });
});
