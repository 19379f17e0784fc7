import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { BreakerOpenError, BreakerTimeoutError, CircuitBreaker } from "../../src/infra/breaker.ts";
import { breakerHooks } from "../../src/infra/breaker-metrics.ts";
import { createMetrics } from "../../src/infra/metrics.ts";
import { createPlantIdClient } from "../../src/infra/providers/plant-id.ts";
import { createPlantNetClient } from "../../src/infra/providers/plantnet.ts";
import { isProviderOutage, ProviderError } from "../../src/infra/providers/provider-error.ts";
import { deadlineOnlyGates } from "../../src/infra/providers/provider-gate.ts";
import { meteredGates, trackProviderCall } from "../../src/infra/providers/provider-metrics.ts";
import { smallCatalogue, solidJpeg } from "../infra/provider-fixtures.ts";
import { type ProviderSimulator, startProviderSimulator } from "../simulators/provider-simulator.ts";
import { capturingLogger, metricValue } from "./metric-value.ts";

let sim: ProviderSimulator;
let green: Uint8Array;
beforeAll(async () => {
  sim = startProviderSimulator({ catalogue: smallCatalogue });
  green = await solidJpeg(30, 140, 40);
});
afterAll(() => sim.stop());
beforeEach(() => sim.control.reset());

function setup() {
  const metrics = createMetrics();
  const hooks = breakerHooks(metrics, capturingLogger().logger);
  const plantnet = createPlantNetClient({ baseUrl: sim.plantnetBaseUrl, apiKey: "sim-plantnet-key" });
  const plantId = createPlantIdClient({ baseUrl: sim.plantIdBaseUrl, apiKey: "sim-plant-id-key" });
  const breakers = {
    plantnet: new CircuitBreaker({
      name: "plantnet",
      consecutiveFailures: 2,
      isFailure: isProviderOutage,
      ...hooks,
    }),
    plantId: new CircuitBreaker({ name: "plant-id", isFailure: isProviderOutage, ...hooks }),
  };
  const identifyPlantNet = () =>
    trackProviderCall(metrics, "plantnet", () =>
      breakers.plantnet.call(
        (signal) => plantnet.identify({ images: [{ bytes: green, organ: "leaf" }] }, signal),
        { timeoutMs: 5_000 },
      ),
    );
  const identifyPlantId = (timeoutMs: number) =>
    trackProviderCall(metrics, "plant-id", () =>
      breakers.plantId.call((signal) => plantId.identify({ images: [green] }, signal), { timeoutMs }),
    );
  const calls = (provider: string, outcome: string) =>
    metricValue(metrics.registry, "provider_calls_total", { provider, outcome });
  const timed = (provider: string) =>
    metricValue(metrics.registry, "provider_call_duration_seconds_count", { provider });
  return { metrics, identifyPlantNet, identifyPlantId, calls, timed };
}

describe("provider metrics", () => {
  test("a successful call counts as success and is timed", async () => {
    const { identifyPlantNet, calls, timed } = setup();
    const result = await identifyPlantNet();
    expect(result.status).toBe("ok");
    expect(await calls("plantnet", "success")).toBe(1);
    expect(await timed("plantnet")).toBe(1);
  });

  test("failed calls count under their error kind, and calls refused by the open breaker as rejected and untimed", async () => {
    const { identifyPlantNet, calls, timed } = setup();
    sim.control.failWith("plantnet", 503);
    for (let i = 0; i < 2; i++)
      expect(await identifyPlantNet().catch((e) => e)).toBeInstanceOf(ProviderError);
    expect(await calls("plantnet", "http")).toBe(2);
    expect(await timed("plantnet")).toBe(2);

    expect(await identifyPlantNet().catch((e) => e)).toBeInstanceOf(BreakerOpenError);
    expect(await calls("plantnet", "rejected")).toBe(1);
    expect(await timed("plantnet")).toBe(2);
    expect(await calls("plantnet", "success")).toBe(0);
  });

  test("a call past its deadline counts as a timeout", async () => {
    const { identifyPlantId, calls, timed } = setup();
    sim.control.hang("plant-id");
    expect(await identifyPlantId(100).catch((e) => e)).toBeInstanceOf(BreakerTimeoutError);
    expect(await calls("plant-id", "timeout")).toBe(1);
    expect(await timed("plant-id")).toBe(1);
  });
});

describe("metered provider gates", () => {
  test("every call through the gates built in deps counts under its provider", async () => {
    const metrics = createMetrics();
    const gates = meteredGates(metrics, deadlineOnlyGates());
    const plantnet = createPlantNetClient({ baseUrl: sim.plantnetBaseUrl, apiKey: "sim-plantnet-key" });
    const result = await gates.plantnet.call(
      (signal) => plantnet.identify({ images: [{ bytes: green, organ: "leaf" }] }, signal),
      {
        timeoutMs: 5_000,
      },
    );
    expect(result.status).toBe("ok");
    sim.control.hang("plant-id");
    const plantId = createPlantIdClient({ baseUrl: sim.plantIdBaseUrl, apiKey: "sim-plant-id-key" });
    const late = await gates["plant-id"]
      .call((signal) => plantId.identify({ images: [green] }, signal), { timeoutMs: 50 })
      .catch((e) => e);
    expect(late).toBeInstanceOf(ProviderError);
    expect(
      await metricValue(metrics.registry, "provider_calls_total", {
        provider: "plantnet",
        outcome: "success",
      }),
    ).toBe(1);
    expect(
      await metricValue(metrics.registry, "provider_calls_total", {
        provider: "plant-id",
        outcome: "timeout",
      }),
    ).toBe(1);
  });
});

describe("identification counters", () => {
  // The identification service (issue 4) increments these; here through the same calls it makes.
  test("identifications_total and identifications_success_total are exported under their names", async () => {
    const metrics = createMetrics();
    metrics.identifications.inc();
    metrics.identifications.inc();
    metrics.identificationsSuccess.inc();
    const text = await metrics.registry.metrics();
    expect(text).toContain("\nidentifications_total 2\n");
    expect(text).toContain("\nidentifications_success_total 1\n");
  });
});
