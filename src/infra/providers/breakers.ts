import type { Redis } from "ioredis";
import type { Config } from "../../config/index.ts";
import { FleetBreaker } from "../breaker-fleet.ts";
import { breakerHooks } from "../breaker-metrics.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { isProviderOutage } from "./provider-error.ts";
import type { ProviderGates } from "./provider-gate.ts";
import { IDENTIFY_PROVIDERS, PROVIDER_NAMES, type ProviderName, perProvider } from "./registry.ts";

export { PROVIDER_NAMES };

export type ProviderBreakers = Readonly<Record<ProviderName, FleetBreaker>> & { close(): Promise<void> };

/**
 * One fleet-wide breaker per provider, and nothing else: every provider call in the codebase goes through
 * these (deps.providers uses them as its gates). The breaker's deadline is the provider call's deadline.
 */
export function createProviderBreakers(opts: {
  config: Config;
  redis: Redis;
  subscriber: Redis;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}): ProviderBreakers {
  // A provider call is counted once, in provider_calls_total (provider-metrics.ts, which also counts the calls
  // the breaker refused); the breaker exports only its state and transitions.
  const hooks = breakerHooks(opts.metrics, opts.logger, PROVIDER_NAMES, { countCalls: false });
  const make = (name: ProviderName) =>
    new FleetBreaker({
      name,
      ...opts.config.breakers[name],
      isFailure: isProviderOutage,
      clock: opts.clock,
      redis: opts.redis,
      subscriber: opts.subscriber,
      keyPrefix: `${opts.config.redis.keyPrefix}breaker:`,
      ...hooks,
      onCoordinationChange: ({ breaker, mode, error }) =>
        opts.logger.warn(
          { breaker, mode, err: error ? String(error) : undefined },
          "circuit breaker coordination changed",
        ),
    });
  const breakers = perProvider((name) => make(name));
  return {
    ...breakers,
    async close() {
      await Promise.all(Object.values(breakers).map((b) => b.close()));
    },
  };
}

export function breakerGates(breakers: ProviderBreakers): ProviderGates {
  return perProvider((name) => breakers[name]);
}

/**
 * Seconds until a provider may be called again when every identification provider is unusable right now
 * (breaker open, or no key configured), else undefined. Lets the API answer 503 before reading an upload.
 */
export function allProvidersOpenFor(
  breakers: ProviderBreakers,
  isConfigured: (name: ProviderName) => boolean,
): number | undefined {
  let shortestMs = Number.POSITIVE_INFINITY;
  for (const name of IDENTIFY_PROVIDERS) {
    if (!isConfigured(name)) continue;
    const snap = breakers[name].snapshot();
    if (snap.state !== "open" || snap.retryInMs <= 0) return undefined;
    shortestMs = Math.min(shortestMs, snap.retryInMs);
  }
  return Number.isFinite(shortestMs) ? Math.max(1, Math.ceil(shortestMs / 1000)) : undefined;
}
