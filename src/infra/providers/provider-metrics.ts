import { BreakerOpenError, BreakerTimeoutError } from "../breaker.ts";
import type { Metrics } from "../metrics.ts";
import { ProviderError, type ProviderName } from "./provider-error.ts";
import { type ProviderGate, type ProviderGates, wrapGate } from "./provider-gate.ts";
import { perProvider } from "./registry.ts";

/**
 * Records one provider call in provider_calls_total{provider,outcome} and, unless the breaker refused it,
 * provider_call_duration_seconds. Wrap the breaker call: `trackProviderCall(metrics, "plantnet", () =>
 * breaker.call(...))`. The outcome is "success" or why it failed (see the metric's HELP).
 */
export async function trackProviderCall<T>(
  metrics: Metrics,
  provider: ProviderName,
  call: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const record = (outcome: string) => {
    metrics.providerCalls.inc({ provider, outcome });
    if (outcome !== "rejected")
      metrics.providerDuration.observe({ provider }, (performance.now() - started) / 1000);
  };
  try {
    const value = await call();
    record("success");
    return value;
  } catch (err) {
    record(providerOutcome(err));
    throw err;
  }
}

export function providerOutcome(err: unknown): string {
  if (err instanceof BreakerOpenError) return "rejected";
  if (err instanceof BreakerTimeoutError) return "timeout";
  if (err instanceof ProviderError) return err.kind;
  return "error";
}

/** The same gates (breakers), each recording its calls in the provider metrics. */
export function meteredGates(metrics: Metrics, gates: ProviderGates): ProviderGates {
  const metered = (provider: ProviderName, gate: ProviderGate): ProviderGate =>
    wrapGate(gate, (fn, options) => trackProviderCall(metrics, provider, () => gate.call(fn, options)));
  return perProvider((name) => metered(name, gates[name]));
}
