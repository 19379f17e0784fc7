import {
  type BreakerState,
  breakerStateGaugeValue,
  type CallEvent,
  type StateChangeEvent,
} from "./breaker.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";

export type BreakerHooks = {
  onStateChange(event: StateChangeEvent): void;
  onCall(event: CallEvent): void;
};

/**
 * Hooks to pass to every breaker (CircuitBreaker or FleetBreaker): one log line per state change and the
 * circuit_breaker_* metrics. `breakers` (optional) are exported as closed from the start; any other breaker
 * appears at its first call or state change. Transitions learned from another instance (origin "peer") move
 * the gauge and are logged but are not counted, so summing the counter over the fleet counts each once.
 */
export function breakerHooks(
  metrics: Metrics,
  logger: Logger,
  breakers: readonly string[] = [],
  /** false: calls are counted elsewhere (provider calls count in provider_calls_total, once). */
  options: { countCalls?: boolean } = {},
): BreakerHooks {
  const countCalls = options.countCalls ?? true;
  const known = new Set<string>();
  const setState = (breaker: string, state: BreakerState) => {
    known.add(breaker);
    metrics.breakerState.set({ breaker }, breakerStateGaugeValue[state]);
  };
  for (const breaker of breakers) setState(breaker, "closed");
  return {
    onStateChange({ breaker, from, to, reason, origin }) {
      setState(breaker, to);
      if (origin === "self") metrics.breakerTransitions.inc({ breaker, from, to });
      const line = { breaker, from, to, reason, origin };
      if (to === "open") logger.warn(line, "circuit breaker state changed");
      else logger.info(line, "circuit breaker state changed");
    },
    onCall({ breaker, result }) {
      // A breaker reports any state other than closed before the call it affects, so unknown = closed.
      if (!known.has(breaker)) setState(breaker, "closed");
      if (countCalls) metrics.breakerCalls.inc({ breaker, result });
    },
  };
}
