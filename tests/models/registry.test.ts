import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { PROVIDER_ACCOUNTS, PROVIDER_NAMES, PROVIDER_REGISTRY } from "../../src/infra/providers/registry.ts";
import { ProviderStatusListSchema } from "../../src/modules/providers/providers.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { metricValue } from "../observability/metric-value.ts";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(() => app.close());

describe("the provider registry", () => {
  test("every entry gets its configuration, its account's key and budget, a breaker and a /v1/providers row", async () => {
    const config = parseConfig({ NODE_ENV: "test", PLANTNET_DAILY_QUOTA: "42", PLANT_ID_API_KEY: "k" });
    for (const name of PROVIDER_NAMES) {
      const def = PROVIDER_REGISTRY[name];
      const settings = config.providers[def.reportKey];
      expect(settings.account).toBe(def.account);
      expect(settings.baseUrl).toBe(PROVIDER_ACCOUNTS[def.account].publicBaseUrl);
      expect(config.breakers[name].coolDownMs).toBeGreaterThan(0);
      expect(app.deps.breakers[name].snapshot().state).toBe("closed");
    }
    // Health assessments spend Plant.id's key and budget; PlantNet's budget is its own.
    expect(config.providers.plantIdHealth.apiKey).toBe("k");
    expect(config.providers.plantnet.dailyQuota).toBe(42);
    const res = await app.request("/v1/providers");
    const body = ProviderStatusListSchema.parse(await res.json());
    expect(body.data.map((p) => p.name)).toEqual([...PROVIDER_NAMES]);
  });

  test("a provider call is counted once, in provider_calls_total, not again by its breaker", async () => {
    const registry = app.deps.metrics.registry;
    const before = await metricValue(registry, "provider_calls_total", {
      provider: "plantnet",
      outcome: "success",
    });
    const value = await app.deps.providers.gates.plantnet.call(async () => "answer", { timeoutMs: 1_000 });
    expect(value).toBe("answer");
    expect(
      await metricValue(registry, "provider_calls_total", { provider: "plantnet", outcome: "success" }),
    ).toBe(before + 1);
    expect(
      await metricValue(registry, "circuit_breaker_calls_total", { breaker: "plantnet", result: "success" }),
    ).toBe(0);
    // The breaker still exports its state.
    expect(await metricValue(registry, "circuit_breaker_state", { breaker: "plantnet" })).toBe(0);
  });
});
